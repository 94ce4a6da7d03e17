"""The case page and the actions both parties take on it: submit, withdraw, files, reports, messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from service.auth.models import Role
from service.cases import service as cases
from service.cases.access import ensure_case_officer, get_visible_case
from service.cases.models import Case
from service.cases.schemas import WithdrawIn
from service.deps import AppSettings, DbSession
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.errors import AppError, ValidationFailed
from service.schemas import Id
from service.messages import service as messages
from service.web import casepage, esigning
from service.web.deps import CsrfForm, WebUser, attempt, text, web_router, whole
from service.web.forms import FormState
from service.web.rendering import redirect, render
from storage.base import ObjectStore

router = web_router()
Store = Annotated[ObjectStore, Depends(documents.get_store)]


def case_page(request: Request, session: DbSession, user, case: Case, settings, *, forms: dict[str, FormState] | None = None,  # noqa: ANN001
              status_code: int = 200) -> Response:
    """Render the case page, optionally with one form's input and errors kept."""
    view = casepage.load(session, user, case, settings, forms)
    es = esigning.load(session, esigning.request_store(request), user, case, settings)
    title = f"{case.diarienummer} {case.title}" if case.diarienummer else case.title
    return render(request, "case/case.html", {"title": title, "v": view, "es": es, "c": case, "generatable": casepage.GENERATABLE},
                  status_code=status_code)


@router.get("/arenden/{case_id}")
def show_case(case_id: Id, request: Request, user: WebUser, session: DbSession, settings: AppSettings) -> Response:
    """The case: status, diarienummer, stage history, documents, dialogue, reports and the actions the viewer may take."""
    return case_page(request, session, user, get_visible_case(session, user, case_id), settings)


def refused(request: Request, session: DbSession, user, case: Case, settings, key: str, form: CsrfForm, exc: Exception,  # noqa: ANN001
             fields: tuple[str, ...] = ()) -> Response:
    """Re-show the case page with the refused form's input and messages."""
    state = FormState.from_form(form, prefix=key)
    if isinstance(exc, ValidationError):
        state.add_validation(exc, fields=fields, default_field=fields[0] if fields else None)
    elif isinstance(exc, AppError):
        state.add_app_error(exc, fields=fields)
    status = exc.status_code if isinstance(exc, AppError) else 422
    session.expire_all()  # show what is stored, not what the refused call had begun to change
    return case_page(request, session, user, get_visible_case(session, user, case.id), settings, forms={key: state}, status_code=status)


@router.post("/arenden/{case_id}/skicka-in")
def submit(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Submit the draft (a diarienummer is assigned) or send in requested changes."""
    case = get_visible_case(session, user, case_id)
    was_draft = case.diarienummer is None
    try:
        with attempt(session):
            cases.submit(session, user, case, settings, whole(form, "version") or None)
    except AppError as exc:
        return refused(request, session, user, case, settings, "submit", form, exc)
    return redirect(f"/arenden/{case.id}", flash="inskickat" if was_draft else "komplettering-inskickad")


@router.post("/arenden/{case_id}/aterkalla")
def withdraw(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """The organisation withdraws its case, with an optional reason."""
    case = get_visible_case(session, user, case_id)
    try:
        if text(form, "confirm") != "ja":
            raise ValidationFailed(errors=[{"field": "confirm", "message": "Bekräfta att du vill återkalla ärendet."}])
        data = WithdrawIn(reason=text(form, "reason"))  # the API's length and control-character rules
        with attempt(session):
            cases.withdraw(session, user, case, data.reason, whole(form, "version") or None)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, "withdraw", form, exc, ("confirm", "reason"))
    return redirect(f"/arenden/{case.id}", flash="aterkallat")


@router.post("/arenden/{case_id}/bilagor")
def upload(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings,
           store: Store) -> Response:
    """Upload an attachment (type checked by content, size limited); the signed agreement is uploaded in the signing section."""
    case = get_visible_case(session, user, case_id)
    file = form.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise ValidationFailed(errors=[{"field": "file", "message": "Välj en fil att ladda upp."}])
        internal = user.role != Role.ORG_MEMBER and text(form, "internal") == "ja"
        if user.role != Role.ORG_MEMBER:
            ensure_case_officer(user, case)
        upload = documents.spool_upload(file.file, settings.upload_limit_bytes)  # streamed from the spool file, not in memory
        with attempt(session):
            documents.upload_document(session, store, user, case, kind=DocumentKind.ATTACHMENT, filename=file.filename, content=upload,
                                      content_type=upload.content_type, internal=internal, settings=settings)
    except AppError as exc:
        return refused(request, session, user, case, settings, "upload", form, exc, ("file",))
    return redirect(f"/arenden/{case.id}#dokument", flash="bilaga-uppladdad")


@router.get("/arenden/{case_id}/dokument/{doc_id}")
def download(case_id: Id, doc_id: Id, user: WebUser, session: DbSession, store: Store) -> Response:
    """Stream a stored document through the service, after the same visibility checks as the API."""
    doc = documents.get_visible_document(session, user, get_visible_case(session, user, case_id), doc_id)
    body = documents.open_content(store, doc)
    return StreamingResponse(body, media_type=doc.content_type, headers={
        "Content-Disposition": documents.content_disposition(doc.filename),
        "Content-Length": str(doc.size), "X-Content-SHA256": doc.sha256,
    })


@router.post("/arenden/{case_id}/meddelanden")
def post_message(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Post to the case thread through the messages service."""
    case = get_visible_case(session, user, case_id)
    try:
        body = text(form, "body")
        if not body:
            raise ValidationFailed(errors=[{"field": "body", "message": "Skriv ett meddelande."}])
        internal = user.role != Role.ORG_MEMBER and text(form, "internal") == "ja"
        with attempt(session):
            messages.post_message(session, user, case, body, internal)
    except AppError as exc:
        return refused(request, session, user, case, settings, "message", form, exc, ("body",))
    return redirect(f"/arenden/{case.id}#meddelanden", flash="meddelande-skickat")
