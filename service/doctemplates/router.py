"""Administrators replace a document kind's template: upload (checked), list, download, preview, activate (0 = shipped)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Path, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.deps import AppSettings, DbSession, require_roles
from service.doctemplates import service
from service.doctemplates.kinds import TemplateKind, shipped_name
from service.doctemplates.schemas import TemplateKindOut, TemplateVersionOut
from service.documents import service as documents
from service.schemas import MAX_ID
from storage.base import ObjectStore

router = APIRouter(tags=["documents"])

Admin = Annotated[User, Depends(require_roles(Role.ADMIN))]
Store = Annotated[ObjectStore, Depends(documents.get_store)]
Version = Annotated[int, Path(ge=0, le=MAX_ID, description="Version; 0 är den levererade mallen / 0 is the shipped template")]
DOCX_CONTENT = {200: {"description": "En .docx / a .docx",
                      "content": {documents.DOCX: {"schema": {"type": "string", "format": "binary"}}}}}


def _kind_out(session: Session, store: ObjectStore, kind: TemplateKind) -> TemplateKindOut:
    return TemplateKindOut(kind=kind, shipped_template=shipped_name(kind), active_version=service.active_version(store, kind),
                           allowed_variables=service.allowed_variables(kind),
                           versions=[TemplateVersionOut.model_validate(v) for v in service.versions(session, kind)])


def _docx(file: service.TemplateFile) -> Response:
    return Response(file.content, media_type=documents.DOCX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file.filename)}"})


@router.get("/document-templates", response_model=list[TemplateKindOut])
def list_templates(session: DbSession, store: Store, _: Admin) -> list[TemplateKindOut]:
    """Every document kind's templates and which version is in use."""
    return [_kind_out(session, store, kind) for kind in TemplateKind]


@router.get("/document-templates/{kind}", response_model=TemplateKindOut)
def kind_templates(kind: TemplateKind, session: DbSession, store: Store, _: Admin) -> TemplateKindOut:
    """One kind's templates: the shipped file, the uploaded versions, the active one."""
    return _kind_out(session, store, kind)


@router.post("/document-templates/{kind}", response_model=TemplateVersionOut, status_code=201)
def upload_template(kind: TemplateKind, session: DbSession, store: Store, admin: Admin, settings: AppSettings,
                    file: Annotated[UploadFile, File(description="Mallen (.docx) / the template (.docx)")]) -> TemplateVersionOut:
    """Upload a replacement .docx: unknown variables and a failing test render are refused (422); stored as the next version."""
    data, mime = documents.read_upload(file.file, settings.upload_limit_bytes)
    row = service.upload(session, store, admin, kind, file.filename or f"{kind.value}.docx", data, mime)
    return TemplateVersionOut.model_validate(row)


@router.get("/document-templates/{kind}/versions/{version}/content", response_class=Response, responses=DOCX_CONTENT)
def template_content(kind: TemplateKind, version: Version, session: DbSession, store: Store, _: Admin) -> Response:
    """Download a version as uploaded (0: the shipped template)."""
    return _docx(service.content_of(session, store, kind, version))


@router.get("/document-templates/{kind}/versions/{version}/preview", response_class=Response, responses=DOCX_CONTENT)
def template_preview(kind: TemplateKind, version: Version, session: DbSession, store: Store, _: Admin) -> Response:
    """A version rendered with sample data."""
    return _docx(service.preview_of(session, store, kind, version))


@router.post("/document-templates/{kind}/versions/{version}/activate", response_model=TemplateKindOut)
def activate_template(kind: TemplateKind, version: Version, session: DbSession, store: Store, admin: Admin) -> TemplateKindOut:
    """Use this version for the next generated documents of the kind (0: back to the shipped template)."""
    service.activate(session, store, admin, kind, version)
    return _kind_out(session, store, kind)
