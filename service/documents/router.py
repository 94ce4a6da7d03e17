"""Document endpoints: generate, upload, list, metadata, download."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from service.auth.models import Role
from service.cases.access import ensure_case_officer, get_visible_case
from service.deps import AppSettings, CurrentUser, DbSession
from service.documents import service
from service.documents.builders import BUILDERS
from service.documents.models import Document, DocumentKind
from service.errors import NotFound, PayloadTooLarge, ValidationFailed
from service.schemas import Id, ORMModel
from storage.base import ObjectStore

router = APIRouter(tags=["documents"])
Store = Annotated[ObjectStore, Depends(service.get_store)]
UPLOAD_KINDS = {DocumentKind.ATTACHMENT, DocumentKind.SIGNED_AGREEMENT}


class DocumentOut(ORMModel):
    """Document metadata."""

    id: int
    case_id: int | None
    kind: DocumentKind
    version: int
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_version_id: str | None
    template_name: str | None
    template_sha256: str | None
    internal: bool
    created_at: datetime


def _visible_doc(session, user, case_id: int, doc_id: int) -> Document:  # noqa: ANN001
    case = get_visible_case(session, user, case_id)
    doc = session.get(Document, doc_id)
    if doc is None or doc.case_id != case.id or (doc.internal and user.role == Role.ORG_MEMBER):
        raise NotFound("Dokumentet finns inte / Document not found")
    return doc


@router.post("/cases/{case_id}/documents/{kind}/generate", response_model=DocumentOut, status_code=201)
def generate(case_id: Id, kind: DocumentKind, session: DbSession, user: CurrentUser, store: Store) -> Document:
    """Generate the kind's document from the case as a new version."""
    case = get_visible_case(session, user, case_id)
    ensure_case_officer(user, case)
    if kind not in BUILDERS:
        raise ValidationFailed(errors=[{"field": "kind", "message": f"Kan inte genereras; välj en av {sorted(k.value for k in BUILDERS)}"}])
    return service.generate(session, store, user, case, kind)


@router.post("/cases/{case_id}/attachments", response_model=DocumentOut, status_code=201)
def upload(
    case_id: Id, request: Request, session: DbSession, user: CurrentUser, store: Store, settings: AppSettings,
    file: Annotated[UploadFile, File()], kind: Annotated[DocumentKind, Form()] = DocumentKind.ATTACHMENT,
    internal: Annotated[bool, Form()] = False,
) -> Document:
    """Upload an attachment or the signed agreement (type checked by magic bytes, size limited)."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.upload_limit_bytes + 64 * 1024:
        raise PayloadTooLarge(f"Filen är större än {settings.upload_limit_bytes // (1024 * 1024)} MB / file too large")
    case = get_visible_case(session, user, case_id)
    if kind not in UPLOAD_KINDS:
        raise ValidationFailed(errors=[{"field": "kind", "message": "attachment eller signed_agreement"}])
    if user.role == Role.ORG_MEMBER:
        internal = False  # organisations cannot hide documents from themselves
    else:
        ensure_case_officer(user, case)
    data, mime = service.read_upload(file.file, settings.upload_limit_bytes)
    return service.store_document(session, store, case=case, kind=kind, filename=file.filename or f"bilaga.{service.ALLOWED_UPLOADS[mime]}",
                                  content=data, content_type=mime, user=user, internal=internal)


@router.get("/cases/{case_id}/documents", response_model=list[DocumentOut])
def list_documents(case_id: Id, session: DbSession, user: CurrentUser) -> list[Document]:
    """Documents of a case (internal ones hidden from the organisation)."""
    case = get_visible_case(session, user, case_id)
    stmt = select(Document).where(Document.case_id == case.id)
    if user.role == Role.ORG_MEMBER:
        stmt = stmt.where(Document.internal.is_(False))
    return list(session.scalars(stmt.order_by(Document.kind, Document.version)))


@router.get("/cases/{case_id}/documents/{doc_id}", response_model=DocumentOut)
def document_metadata(case_id: Id, doc_id: Id, session: DbSession, user: CurrentUser) -> Document:
    """One document's metadata."""
    return _visible_doc(session, user, case_id, doc_id)


# Stored bytes go out as stored: an allowed upload type or a generated .docx (never JSON).
BINARY_CONTENT = {200: {"description": "Filens innehåll / the file's bytes",
                        "content": {mime: {"schema": {"type": "string", "format": "binary"}} for mime in service.ALLOWED_UPLOADS}}}


@router.get("/cases/{case_id}/documents/{doc_id}/content", response_class=StreamingResponse, responses=BINARY_CONTENT)
def download(case_id: Id, doc_id: Id, session: DbSession, user: CurrentUser, store: Store) -> StreamingResponse:
    """Stream the stored bytes through the API, with authorisation."""
    doc = _visible_doc(session, user, case_id, doc_id)
    body = service.open_content(store, doc)
    return StreamingResponse(body, media_type=doc.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}",
        "Content-Length": str(doc.size), "ETag": f'"{doc.sha256}"', "X-Content-SHA256": doc.sha256,
    })
