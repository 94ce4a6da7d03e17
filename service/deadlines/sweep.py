"""The reminder sweep: plan reminder rows, lease them to a sender, record the outcome, mark missed deadlines and escalate.

Contract: at most one reminder per deadline, offset and recipient (dedupe_key); after a missed sweep only the latest
passed offset is sent; a reminder is leased for CLAIM_LEASE and given up after MAX_SEND_ATTEMPTS failures; nothing is
sent for a closed or suspended case or a deadline no longer open; each missed deadline escalates once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.audit.service import record
from service.auth.models import User
from service.cases.models import Case
from service.cases.stages import TERMINAL
from service.config import Settings
from service.db import utcnow
from service.deadlines.models import Deadline, DeadlineStatus, Reminder
from service.deadlines.recipients import RecipientLookup, recipients
from service.deadlines.rules import calendar, refresh_schedule, reminder_times
from service.outbox.service import emit

CLAIM_LEASE = timedelta(minutes=5)
MAX_SEND_ATTEMPTS = 10


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # executemany form: one cached statement sent in batches (a single VALUES list of N rows is compiled anew every sweep).
    session.execute(insert(Reminder.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)


def plan_reminders(session: Session, settings: Settings, now: datetime | None = None, limit: int = 5000) -> int:
    """Create reminder rows for deadlines whose next reminder time has come (one per offset and recipient)."""
    now = now or utcnow()
    cal = calendar(settings)
    due = session.execute(
        select(Deadline, Case).join(Case, Case.id == Deadline.case_id)
        .where(Deadline.status == DeadlineStatus.OPEN, Deadline.next_reminder_at <= now)
        .order_by(Deadline.next_reminder_at).limit(limit)
    ).all()
    rows = []
    # Reviews and users for all due deadlines in a few queries; no autoflush, so the schedule updates go out as one batch.
    lookup = RecipientLookup(session, [d for d, _ in due])
    with session.no_autoflush:
        for d, case in due:
            passed = [(key, at) for key, at in reminder_times(cal, d) if at <= now]
            if passed and case.stage not in TERMINAL and not case.suspended:
                # After a missed sweep only the latest passed offset is sent: one reminder, not a burst.
                key, at = passed[-1]
                for u in recipients(session, d, case, lookup=lookup):
                    rows.append({"deadline_id": d.id, "recipient": u.email, "recipient_user_id": u.id, "channel": "email",
                                 "offset_key": key, "scheduled_for": at, "dedupe_key": f"{d.id}:{u.email}:{key}",
                                 "token": str(uuid.uuid4()), "attempts": 0})
            refresh_schedule(cal, d, now)
    _insert_ignore(session, rows)
    session.flush()
    return len(rows)


def claim_due_reminders(session: Session, now: datetime | None = None, limit: int = 500) -> list[tuple[int, str]]:
    """Lease a batch of unsent reminders to this worker (SKIP LOCKED lets several workers share the work)."""
    now = now or utcnow()
    candidates = (
        select(Reminder.id).where(Reminder.sent_at.is_(None), Reminder.skipped_at.is_(None), Reminder.scheduled_for <= now,
                                  Reminder.attempts < MAX_SEND_ATTEMPTS,
                                  (Reminder.claimed_until.is_(None)) | (Reminder.claimed_until < now))
        .order_by(Reminder.scheduled_for, Reminder.id).limit(limit).with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    session.execute(update(Reminder).where(Reminder.id.in_(ids)).values(claimed_until=now + CLAIM_LEASE).execution_options(synchronize_session=False))
    return [(r.id, r.token) for r in session.execute(select(Reminder.id, Reminder.token).where(Reminder.id.in_(ids)).order_by(Reminder.id))]


def reminder_email(session: Session, reminder_id: int, settings: Settings) -> tuple[dict[str, Any], str] | None:
    """The e-mail for a reminder, or None when it must not be sent (case closed, deadline met or paused)."""
    r = session.get(Reminder, reminder_id)
    if r is None or r.sent_at is not None:
        return None
    d = session.get(Deadline, r.deadline_id)
    case = session.get(Case, d.case_id)
    if d.status != DeadlineStatus.OPEN or case.stage in TERMINAL or case.suspended:
        r.skipped_at = utcnow()
        r.last_error = f"skipped: deadline {d.status}, case {case.stage}"
        session.flush()
        return None
    user = session.get(User, r.recipient_user_id) if r.recipient_user_id else None
    context = {"to": r.recipient, "recipient_name": user.full_name if user else r.recipient, "deadline_kind": d.kind.value if hasattr(d.kind, "value") else d.kind,
               "diarienummer": case.diarienummer or f"ärende {case.id}", "case_title": case.title, "due_at": d.due_at,
               "case_url": f"{settings.public_base_url}/arenden/{case.id}"}
    return context, r.dedupe_key


def mark_sent(session: Session, reminder_id: int, message_id: str | None, now: datetime | None = None) -> None:
    """Record delivery (or a skip) so no later sweep sends it again."""
    session.execute(update(Reminder).where(Reminder.id == reminder_id, Reminder.sent_at.is_(None))
                    .values(sent_at=now or utcnow(), message_id=message_id, claimed_until=None).execution_options(synchronize_session=False))


def mark_failed(session: Session, reminder_id: int, error: str) -> None:
    """A transient failure: release the lease and count the attempt."""
    session.execute(update(Reminder).where(Reminder.id == reminder_id)
                    .values(attempts=Reminder.attempts + 1, last_error=error[:2000], claimed_until=None).execution_options(synchronize_session=False))


def mark_missed_and_escalate(session: Session, settings: Settings, now: datetime | None = None, limit: int = 5000) -> list[int]:
    """Open deadlines past due become missed; missed ones past their escalation delay emit one escalation event."""
    now = now or utcnow()
    cal = calendar(settings)
    missed = session.execute(
        select(Deadline, Case).join(Case, Case.id == Deadline.case_id)
        .where(Deadline.status == DeadlineStatus.OPEN, Deadline.due_at < now).order_by(Deadline.due_at).limit(limit)
    ).all()
    newly_missed = []
    for d, case in missed:
        if case.stage in TERMINAL:
            d.status = DeadlineStatus.CANCELLED
            continue
        d.status = DeadlineStatus.MISSED
        d.missed_at = now
        d.next_reminder_at = None
        delay = d.escalation_delay or {}
        if "working_days" in delay:
            d.escalate_at = cal.shift_by_working_days(d.due_at, delay["working_days"])
        else:
            d.escalate_at = d.due_at + timedelta(days=delay.get("days", 0))
        newly_missed.append((d, case))
    # All status changes first: the first audit record's flush writes them as one batch, not one UPDATE per deadline.
    for d, case in newly_missed:
        record(session, actor=None, action="deadline.missed", case_id=case.id, after={"deadline_id": d.id, "kind": d.kind})
    session.flush()
    due_escalations = list(session.scalars(select(Deadline).where(Deadline.status == DeadlineStatus.MISSED, Deadline.escalated_at.is_(None),
                                                                  Deadline.escalate_at <= now).limit(limit)))
    for d in due_escalations:
        d.escalated_at = now
    escalated = []
    for d in due_escalations:
        emit(session, "deadline.escalated", {"deadline_id": d.id}, case_id=d.case_id)
        escalated.append(d.id)
    session.flush()
    return escalated
