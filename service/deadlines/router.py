"""Deadlines of a case, suspension/resumption and extension."""

from __future__ import annotations


from fastapi import APIRouter
from sqlalchemy import select

from service.cases.access import deadlines_shown, get_visible_case
from service.auth.models import Role
from service.deadlines import clock, sweep
from service.deadlines.models import Deadline, Reminder
from service.errors import Forbidden
from service.deps import AppSettings, CurrentUser, DbSession
from service.deadlines.schemas import DeadlineOut, ExtendIn, ReminderOut, SuspendIn, SuspensionOut
from service.schemas import Id

router = APIRouter(tags=["deadlines"])


@router.get("/cases/{case_id}/deadlines", response_model=list[DeadlineOut])
def list_deadlines(case_id: Id, session: DbSession, user: CurrentUser) -> list[Deadline]:
    """The case's deadlines by due time (the organisation sees the ones it must meet itself)."""
    case = get_visible_case(session, user, case_id)
    stmt = select(Deadline).where(Deadline.case_id == case.id, deadlines_shown(user))
    return list(session.scalars(stmt.order_by(Deadline.due_at, Deadline.id)))


@router.post("/cases/{case_id}/suspend", response_model=SuspensionOut, status_code=201)
def suspend(case_id: Id, data: SuspendIn, session: DbSession, user: CurrentUser) -> object:
    """Stop the clock (e.g. waiting for the organisation); open deadlines pause."""
    return clock.suspend(session, user, get_visible_case(session, user, case_id), data.reason)


@router.post("/cases/{case_id}/resume", response_model=SuspensionOut)
def resume(case_id: Id, session: DbSession, user: CurrentUser, settings: AppSettings) -> object:
    """Restart the clock; paused deadlines move by the suspended working days."""
    return clock.resume(session, user, get_visible_case(session, user, case_id), settings)


@router.post("/cases/{case_id}/deadlines/{deadline_id}/extend", response_model=DeadlineOut)
def extend(case_id: Id, deadline_id: Id, data: ExtendIn, session: DbSession, user: CurrentUser, settings: AppSettings) -> Deadline:
    """Extend one deadline with a reason."""
    case = get_visible_case(session, user, case_id)
    d = clock.get_case_deadline(session, case, deadline_id)
    return clock.extend(session, user, d, case, settings, due_on=data.due_on, working_days=data.working_days, reason=data.reason)


def _ensure_admin(user) -> None:  # noqa: ANN001
    if user.role != Role.ADMIN:
        raise Forbidden("Endast administratörer / administrators only")


@router.get("/reminders/failed", response_model=list[ReminderOut])
def failed_reminders(session: DbSession, user: CurrentUser) -> list[Reminder]:
    """Reminders that failed: given up first, then those waiting for their next attempt (administrators)."""
    _ensure_admin(user)
    return sweep.failing(session)


@router.post("/reminders/{reminder_id}/resend", response_model=ReminderOut)
def resend_reminder(reminder_id: Id, session: DbSession, user: CurrentUser) -> Reminder:
    """Send a given-up reminder again with the next sweep (administrators; audited)."""
    _ensure_admin(user)
    return sweep.resend(session, user, reminder_id)
