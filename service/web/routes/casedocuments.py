"""Generating a case's documents from the templates, and their PDF/A copies."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from service.cases.access import ensure_case_officer
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
