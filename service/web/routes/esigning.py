"""Electronic signing on the case page: the officer sends the agreement for signature; each signatory signs in turn."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from service.cases.access import get_visible_case
from service.deps import AppSettings, DbSession
from service.documents import service as documents
from service.errors import AppError
from service.schemas import Id
from service.signing import service as signing
from service.web.deps import CsrfForm, WebUser, attempt, text, web_router, whole
from service.web.rendering import redirect
from service.web.routes.cases import refused
from storage.base import ObjectStore

router = web_router()
Store = Annotated[ObjectStore, Depends(documents.get_store)]
INVITE_FIELDS = ("organisation_user_id", "public_user_id", "first")


@router.post("/arenden/{case_id}/e-underskrift")
def invite(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, store: Store, settings: AppSettings) -> Response:
    """The case officer sends the current agreement version to the named signatories (who signs first: the form's choice)."""
    case = get_visible_case(session, user, case_id)
    pairs: list[tuple[str, int | None]] = []
    try:
        pairs = [("organisation", whole(form, "organisation_user_id")), ("public", whole(form, "public_user_id"))]
        if text(form, "first") == "public":
            pairs.reverse()
        with attempt(session):
            signing.invite(session, store, user, case, pairs, settings)
    except AppError as exc:
        return refused(request, session, user, case, settings, "esign", form, _web_fields(exc, pairs), INVITE_FIELDS)
    return redirect(f"/arenden/{case.id}#e-underskrift", flash="e-underskrift-skickad")


def _web_fields(exc: AppError, pairs: list[tuple[str, int | None]]) -> AppError:
    """The service names signatories by position (signatories.1.user_id); the form by party (public_user_id)."""
    for e in exc.errors or []:
        parts = str(e.get("field", "")).split(".")
        if parts[0] == "signatories" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(pairs):
            e["field"] = f"{pairs[int(parts[1])][0]}_user_id"
    return exc


@router.post("/arenden/{case_id}/e-underskrift/{order_id}/skriv-under")
def sign(case_id: Id, order_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, store: Store,
         settings: AppSettings) -> Response:
    """The logged-in signatory signs the agreement in their turn."""
    case = get_visible_case(session, user, case_id)
    try:
        with attempt(session):
            signing.sign(session, store, user, case, order_id, settings)
    except AppError as exc:
        return refused(request, session, user, case, settings, "esign_sign", form, exc)
    return redirect(f"/arenden/{case.id}#e-underskrift", flash="e-underskrift-klar")
