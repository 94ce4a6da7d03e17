"""Assigning an officer, asking the organisation for completion, asking for a decision, taking the request back, and the approver's decision page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from service import labels as names
from service.auth.models import User
from service.cases import gates
from service.cases import service as cases
from service.cases.access import get_visible_case
from service.cases.models import Case
from service.cases.schemas import CompletionRequestIn
from service.config import Settings
from service.deps import AppSettings, DbSession
from service.errors import AppError, ValidationFailed
from service.reviews import service as reviews
from service.reviews.models import Decision
from service.reviews.schemas import ReviewRequestIn
from service.schemas import Id
from service.web import casepage
from service.web.deps import CsrfForm, WebUser, attempt, text, web_router, whole
from service.web.forms import FormState
from service.web.rendering import redirect, render
from service.web.routes.cases import refused
from service.web.routes.staff import case_for_staff, form_version

router = web_router()


@router.post("/arenden/{case_id}/tilldela")
def assign(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Assign a handläggare (default: the logged-in officer)."""
    case = case_for_staff(session, user, case_id)
    try:
        officer_id = whole(form, "officer_id")
        if officer_id is None:
            raise ValidationFailed(errors=[{"field": "officer_id", "message": "Välj en handläggare."}])
        with attempt(session):
            cases.assign_officer(session, user, case, officer_id, form_version(form))
    except AppError as exc:
        return refused(request, session, user, case, settings, "assign", form, exc, ("officer_id",))
    return redirect(f"/arenden/{case.id}", flash="tilldelat")


@router.post("/arenden/{case_id}/begar-komplettering")
def request_completion(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """The officer asks the organisation to complete the case (the case reopens for its changes; it is told)."""
    case = case_for_staff(session, user, case_id)
    try:
        # The API's payload: its length and control-character rules, not a copy of them here.
        data = CompletionRequestIn(message=text(form, "message"))
        with attempt(session):
            cases.request_completion(session, user, case, data.message, form_version(form))
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, "completion", form, exc, ("message",))
    return redirect(f"/arenden/{case.id}", flash="komplettering-begard")


@router.post("/arenden/{case_id}/begar-beslut")
def request_review(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Ask an approver to move the case to the next stage (the stage gate is checked now)."""
    case = case_for_staff(session, user, case_id)
    try:
        data = ReviewRequestIn(comment=text(form, "comment"), comment_internal=text(form, "comment_internal") == "ja")
        with attempt(session):
            reviews.request_review(session, user, case, settings, to_stage=None, approver_id=whole(form, "approver_id"),
                                   comment=data.comment, expected_version=form_version(form), comment_internal=data.comment_internal)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, "review", form, exc, ("approver_id", "comment"))
    return redirect(f"/arenden/{case.id}", flash="granskning-begard")


@router.post("/arenden/{case_id}/granskning/{review_id}/tilldela")
def reassign_review(case_id: Id, review_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Give the pending review to another approver (or to any who may decide it)."""
    case = case_for_staff(session, user, case_id)
    try:
        with attempt(session):
            reviews.reassign(session, user, case, reviews.get_review(session, case, review_id), whole(form, "approver_id"))
    except AppError as exc:
        return refused(request, session, user, case, settings, "reassign", form, exc, ("approver_id",))
    return redirect(f"/arenden/{case.id}", flash="omfordelad")


@router.post("/arenden/{case_id}/granskning/{review_id}/aterta")
def cancel_review(case_id: Id, review_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
                  settings: AppSettings) -> Response:
    """The requester takes back a pending request."""
    case = case_for_staff(session, user, case_id)
    try:
        with attempt(session):
            reviews.cancel(session, user, case, reviews.get_review(session, case, review_id))
    except AppError as exc:
        return refused(request, session, user, case, settings, "cancel", form, exc)
    return redirect(f"/arenden/{case.id}", flash="granskning-atertagen")


def _decision_page(request: Request, session: Session, user: User, case: Case, settings: Settings, state: FormState,
                   status_code: int = 200) -> Response:
    view = casepage.load(session, user, case, settings)
    missing: list[dict[str, str]] = []
    if view.pending is not None:
        # Re-check with this approver so a delegation limit shows before the decision is attempted.
        missing = gates.check(session, case, view.pending.to_stage, settings, user)
    return render(request, "officer/decision.html", {
        "title": f"Beslut: {case.diarienummer} {case.title}", "v": view, "c": case, "form": state, "gate_missing": missing,
        "decisions": [(d.value, names.DECISIONS[d]) for d in Decision],
    }, status_code=status_code)


@router.get("/arenden/{case_id}/beslut")
def decision_page(case_id: Id, request: Request, user: WebUser, session: DbSession, settings: AppSettings) -> Response:
    """The approver's decision page for the pending review."""
    case = case_for_staff(session, user, case_id)
    return _decision_page(request, session, user, case, settings, FormState(prefix="decision"))


@router.post("/arenden/{case_id}/beslut")
def decide(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Approve, reject or request changes, with motivation (four-eyes and delegation checked by the service)."""
    case = case_for_staff(session, user, case_id)
    state = FormState.from_form(form, prefix="decision")
    try:
        raw_decision = text(form, "decision")
        if raw_decision not in {d.value for d in Decision}:
            raise ValidationFailed(errors=[{"field": "decision", "message": "Välj ett beslut."}])
        if len(text(form, "motivation")) > 20_000:
            raise ValidationFailed(errors=[{"field": "motivation", "message": "Högst 20 000 tecken."}])
        review = reviews.get_review(session, case, whole(form, "review_id") or 0)
        with attempt(session):
            reviews.decide(session, user, case, review, Decision(raw_decision), text(form, "motivation"), settings)
    except AppError as exc:
        state.add_app_error(exc, fields=("decision", "motivation"))
        session.expire_all()
        return _decision_page(request, session, user, get_visible_case(session, user, case_id), settings, state, state.status)
    return redirect(f"/arenden/{case.id}", flash="beslut-fattat")
