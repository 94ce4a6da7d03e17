"""The case's clock: suspension stops it, resumption moves every paused deadline on, an extension moves one deadline.

Contract: only the department's officers and approvers may suspend, resume or extend; a closed case cannot be
suspended; resuming shifts each paused deadline by the working days the case was suspended; an extension must move
the deadline later (a date lands at END_OF_DAY local time) and reopens a missed deadline whose new due time is ahead;
both resume and extend drop unsent reminders so the next sweep plans them for the new due time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.audit.service import record, text_summary
from service.auth.models import Role, User
from service.cases.models import Case
from service.cases.stages import TERMINAL
from service.config import Settings
from service.db import utcnow
from service.deadlines.calendar import END_OF_DAY
from service.deadlines.models import EXTENDABLE, Deadline, DeadlineStatus, Reminder, Suspension
from service.deadlines.rules import calendar, refresh_schedule
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.schemas import LAST_DATE


def _ensure_officer(user: User, case: Case) -> None:
    if user.role not in (Role.OFFICER, Role.APPROVER) or user.department_id != case.department_id:
        raise Forbidden("Endast förvaltningens handläggare och beslutsfattare / only the department's civil servants")


def _drop_unsent(session: Session, deadline_ids: list[int]) -> None:
    """Unsent reminders were timed for the old due date; the next sweep plans them anew."""
    if deadline_ids:
        session.execute(delete(Reminder).where(Reminder.deadline_id.in_(deadline_ids), Reminder.sent_at.is_(None)))


def suspend(session: Session, user: User, case: Case, reason: str, now: datetime | None = None) -> Suspension:
    """Stop the case's clock (e.g. waiting for the organisation's input)."""
    _ensure_officer(user, case)
    if case.stage in TERMINAL:
        raise Conflict("Ärendet är avslutat / case is closed", current_stage=case.stage)
    if case.suspended:
        raise Conflict("Ärendet är redan vilande / case already suspended")
    now = now or utcnow()
    s = Suspension(case_id=case.id, reason=reason, started_at=now, started_by_id=user.id)
    session.add(s)
    case.suspended = True
    n = session.execute(update(Deadline).where(Deadline.case_id == case.id, Deadline.status == DeadlineStatus.OPEN)
                        .values(status=DeadlineStatus.SUSPENDED).execution_options(synchronize_session="fetch")).rowcount
    session.flush()
    record(session, actor=user, action="case.suspended", case_id=case.id,
           after={"suspension_id": s.id, "deadlines_paused": n, **text_summary(reason=reason)})
    return s


def resume(session: Session, user: User, case: Case, settings: Settings, now: datetime | None = None) -> Suspension:
    """Restart the clock: every paused deadline moves by the suspended working days."""
    _ensure_officer(user, case)
    s = session.scalar(select(Suspension).where(Suspension.case_id == case.id, Suspension.ended_at.is_(None)))
    if s is None or not case.suspended:
        raise Conflict("Ärendet är inte vilande / case is not suspended")
    now = now or utcnow()
    cal = calendar(settings)
    days = max(0, cal.working_days_between(cal.local_date(s.started_at), cal.local_date(now)))
    moved = []
    paused = select(Deadline).where(Deadline.case_id == case.id, Deadline.status == DeadlineStatus.SUSPENDED)
    for d in session.scalars(paused.execution_options(populate_existing=True)):
        before = d.due_at
        d.due_at = cal.shift_by_working_days(d.due_at, days)
        d.status = DeadlineStatus.OPEN
        refresh_schedule(cal, d, now)
        moved.append({"deadline_id": d.id, "from": before.isoformat(), "to": d.due_at.isoformat()})
    _drop_unsent(session, [m["deadline_id"] for m in moved])
    s.ended_at, s.ended_by_id, s.working_days = now, user.id, days
    case.suspended = False
    session.flush()
    record(session, actor=user, action="case.resumed", case_id=case.id, after={"working_days": days, "moved": moved})
    return s


def get_case_deadline(session: Session, case: Case, deadline_id: int) -> Deadline:
    """A deadline of this (already visible) case; 404 otherwise."""
    d = session.get(Deadline, deadline_id)
    if d is None or d.case_id != case.id:
        raise NotFound("Fristen finns inte / deadline not found")
    return d


def extend(session: Session, user: User, d: Deadline, case: Case, settings: Settings, *, due_on: date | None,
           working_days: int | None, reason: str, now: datetime | None = None) -> Deadline:
    """Move one deadline (with a reason), to a date or by working days."""
    _ensure_officer(user, case)
    if d.status not in EXTENDABLE:
        raise Conflict(f"Fristen är {d.status} och kan inte förlängas / deadline cannot be extended")
    if (due_on is None) == (working_days is None):
        raise ValidationFailed(errors=[{"field": "due_on", "message": "Ange antingen due_on eller working_days / give one of due_on or working_days"}])
    now = now or utcnow()
    cal = calendar(settings)
    before = d.due_at
    try:
        new_due = cal.at_local(due_on, END_OF_DAY) if due_on else cal.shift_by_working_days(d.due_at, working_days or 0)
    except (OverflowError, ValueError):  # past the calendar's last year: no real deadline lies there
        new_due = None
    if new_due is None or new_due.date() > LAST_DATE:
        raise ValidationFailed(errors=[{"field": "working_days" if due_on is None else "due_on",
                                        "message": f"Fristen kan inte flyttas efter {LAST_DATE} / cannot move a deadline past {LAST_DATE}"}])
    if new_due <= before:
        raise ValidationFailed(errors=[{"field": "due_on", "message": "En förlängning måste flytta fristen framåt / must move the deadline later"}])
    d.due_at = new_due
    d.extension_reason = reason
    if d.status == DeadlineStatus.MISSED and new_due > now:
        d.status, d.missed_at, d.escalate_at = DeadlineStatus.OPEN, None, None
    refresh_schedule(cal, d, now)
    _drop_unsent(session, [d.id])
    session.flush()
    record(session, actor=user, action="deadline.extended", case_id=case.id,
           after={"deadline_id": d.id, "from": before.isoformat(), "to": new_due.isoformat(), **text_summary(reason=reason)})
    return d
