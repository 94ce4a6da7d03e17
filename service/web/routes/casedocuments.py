"""Generating a case's documents from the templates, their PDF/A copies, and the signed agreement uploaded where it is signed."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from service.auth.models import Role
from service.cases.access import ensure_case_officer, get_visible_case
from service.deps import AppSettings, DbSession
from service.documents import service as documents
from service.documents.builders import BUILDERS
from service.documents.models import DocumentKind
from service.errors import AppError, ValidationFailed
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, attempt, text, web_router
from service.web.rendering import redirect
from service.web.routes.cases import Store, refused
from service.web.routes.staff import case_for_staff

router = web_router()




@router.post("/arenden/{case_id}/dokument/skapa")
def generate_document(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings,
                      store: Store) -> Response:
    """Generate a document (agreement, decision, minutes, follow-up request) from the case as a new version."""
    case = case_for_staff(session, user, case_id)
    try:
        raw = text(form, "kind")
        kind = DocumentKind(raw) if raw in {k.value for k in BUILDERS} else None
        if kind is None:
            raise ValidationFailed(errors=[{"field": "kind", "message": "Välj vilket dokument som ska skapas."}])
        ensure_case_officer(user, case)
        with attempt(session):
            documents.generate(session, store, user, case, kind)
    except AppError as exc:
        return refused(request, session, user, case, settings, "generate", form, exc, ("kind",))
    return redirect(f"/arenden/{case.id}#dokument", flash="dokument-skapat")


@router.post("/arenden/{case_id}/dokument/{doc_id}/pdf")
def pdfa_copy(case_id: Id, doc_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings,
              store: Store) -> Response:
    """Store a PDF/A-2b copy of a generated document (LibreOffice, about a second)."""
    case = case_for_staff(session, user, case_id)
    try:
        ensure_case_officer(user, case)
        source = documents.get_visible_document(session, user, case, doc_id)
        with attempt(session):
            documents.pdfa_copy(session, store, user, case, source)
    except AppError as exc:
        return refused(request, session, user, case, settings, "generate", form, exc)
    return redirect(f"/arenden/{case.id}#dokument", flash="pdf-skapad")


@router.post("/arenden/{case_id}/undertecknat-avtal")
def upload_signed_agreement(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings,
                            store: Store) -> Response:
    """The signed agreement, uploaded in the signing section: the evidence signatures name (agreements.evidence)."""
    case = get_visible_case(session, user, case_id)
    file = form.get("file")
    try:
        if user.role != Role.ORG_MEMBER:
            ensure_case_officer(user, case)  # as the API: the organisation, or the case department's officers
        errors = []
        if not isinstance(file, UploadFile) or not file.filename:
            errors.append({"field": "file", "message": "Välj filen med det undertecknade avtalet."})
        if text(form, "kind") != DocumentKind.SIGNED_AGREEMENT:
            errors.append({"field": "kind", "message": "Kryssa i att filen är det undertecknade avtalet. Andra filer laddar du upp under Dokument."})
        if errors:
            raise ValidationFailed(errors=errors)
        upload = documents.spool_upload(file.file, settings.upload_limit_bytes)  # streamed from the spool file, not in memory
        with attempt(session):
            documents.upload_document(session, store, user, case, kind=DocumentKind.SIGNED_AGREEMENT, filename=file.filename, content=upload,
                                      content_type=upload.content_type, settings=settings)
    except AppError as exc:
        return refused(request, session, user, case, settings, "signed", form, exc, ("file", "kind"))
    return redirect(f"/arenden/{case.id}#avtal", flash="undertecknat-uppladdat")
