"""Deadline actions on the case page (suspend, resume, extend); the notifications are in notifications.py."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.auth.models import Role
from service.cases.access import get_visible_case
from service.deadlines import clock
from service.deadlines.schemas import ExtendIn, SuspendIn
from service.deps import AppSettings, DbSession
from service.errors import AppError
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, attempt, require_role, text, web_router
from service.web.rendering import redirect
from service.web.routes.cases import refused

router = web_router()
STAFF = (Role.OFFICER, Role.APPROVER)


@router.post("/arenden/{case_id}/pausa")
def suspend(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Stop the case's clock, e.g. while waiting for the organisation's input."""
    case = get_visible_case(session, user, case_id)
    require_role(user, *STAFF)
    try:
        data = SuspendIn(reason=text(form, "reason"))
        with attempt(session):
            clock.suspend(session, user, case, data.reason)
    except (AppError, ValidationError) as exc:
        return refused(request, session, user, case, settings, "suspend", form, exc, ("reason",))
    return redirect(f"/arenden/{case.id}", flash="pausat")


@router.post("/arenden/{case_id}/ateruppta")
def resume(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Restart the clock: every paused deadline moves by the suspended working days."""
    case = get_visible_case(session, user, case_id)
    require_role(user, *STAFF)
    try:
        with attempt(session):
            clock.resume(session, user, case, settings)
    except AppError as exc:
        return refused(request, session, user, case, settings, "resume", form, exc)
    return redirect(f"/arenden/{case.id}", flash="aterupptaget")


@router.post("/arenden/{case_id}/frister/{deadline_id}/forlang")
def extend(case_id: Id, deadline_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
           settings: AppSettings) -> Response:
    """Extend one deadline by working days, with a reason."""
    case = get_visible_case(session, user, case_id)
    require_role(user, *STAFF)
    d = clock.get_case_deadline(session, case, deadline_id)
    try:
        data = ExtendIn(working_days=text(form, "working_days") or None, reason=text(form, "reason"))
        with attempt(session):
            clock.extend(session, user, d, case, settings, due_on=None, working_days=data.working_days, reason=data.reason)
    except (AppError, ValidationError) as exc:
        return refused(request, session, user, case, settings, f"extend{d.id}", form, exc, ("working_days", "reason"))
    return redirect(f"/arenden/{case.id}", flash="frist-forlangd")
