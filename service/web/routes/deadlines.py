"""Deadline actions on the case page (suspend, resume, extend) and the user's notifications."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from service.auth.models import Role
from service.cases.access import get_visible_case
from service.db import utcnow
from service.deadlines import service as deadlines
from service.deadlines.router import ExtendIn, SuspendIn
from service.deps import AppSettings, DbSession
from service.errors import AppError
from service.outbox.models import Notification
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, attempt, require_role, text, web_router
from service.web.rendering import redirect, render
from service.web.routes.cases import refused

router = web_router()
STAFF = (Role.OFFICER, Role.APPROVER)


@router.post("/arenden/{case_id}/pausa")
def suspend(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Stop the case's clock, e.g. while waiting for the organisation's input."""
    require_role(user, *STAFF)
    case = get_visible_case(session, user, case_id)
    try:
        data = SuspendIn(reason=text(form, "reason"))
        with attempt(session):
            deadlines.suspend(session, user, case, data.reason)
    except (AppError, ValidationError) as exc:
        return refused(request, session, user, case, settings, "suspend", form, exc, ("reason",))
    return redirect(f"/arenden/{case.id}", flash="pausat")


@router.post("/arenden/{case_id}/ateruppta")
def resume(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Restart the clock: every paused deadline moves by the suspended working days."""
    require_role(user, *STAFF)
    case = get_visible_case(session, user, case_id)
    try:
        with attempt(session):
            deadlines.resume(session, user, case, settings)
    except AppError as exc:
        return refused(request, session, user, case, settings, "resume", form, exc)
    return redirect(f"/arenden/{case.id}", flash="aterupptaget")


@router.post("/arenden/{case_id}/frister/{deadline_id}/forlang")
def extend(case_id: Id, deadline_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
           settings: AppSettings) -> Response:
    """Extend one deadline by working days, with a reason."""
    require_role(user, *STAFF)
    case = get_visible_case(session, user, case_id)
    d = deadlines.get_case_deadline(session, case, deadline_id)
    try:
        data = ExtendIn(working_days=text(form, "working_days") or None, reason=text(form, "reason"))
        with attempt(session):
            deadlines.extend(session, user, d, case, settings, due_on=None, working_days=data.working_days, reason=data.reason)
    except (AppError, ValidationError) as exc:
        return refused(request, session, user, case, settings, f"extend{d.id}", form, exc, ("working_days", "reason"))
    return redirect(f"/arenden/{case.id}", flash="frist-forlangd")


@router.get("/notiser")
def notifications(request: Request, user: WebUser, session: DbSession) -> Response:
    """The user's notifications, newest first."""
    items = list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                 .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(200)))
    return render(request, "notifications.html", {"title": "Notiser", "items": items})


@router.post("/notiser/lasta")
def mark_all_read(user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Mark every notification of the user read."""
    for n in session.scalars(select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))):
        n.read_at = utcnow()
    session.flush()
    return redirect("/notiser", flash="notiser-lasta")
