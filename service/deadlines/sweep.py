"""The reminder sweep: plan reminder rows, lease them to a sender, record the outcome, mark missed deadlines and escalate.

Contract: at most one reminder per deadline, offset and recipient (dedupe_key); after a missed sweep only the latest
passed offset is sent; a reminder is leased for CLAIM_LEASE to one worker (FOR UPDATE SKIP LOCKED, and the lease
re-checked in the claiming UPDATE), so concurrent sweeps share the work; a reminder the SMTP server accepted is in the
sent-log (record_delivery, committed at once) until fold_deliveries marks it sent, and a reminder in the sent-log is
never claimed again; two sweeps plan and escalate disjoint deadlines (row locks); a failed send is retried with exponential backoff
(RETRY_BASE doubling up to RETRY_CAP) and given up only after RETRY_WINDOW from its first failure, or at once when
the recipient is refused; given-up reminders show in /ready and can be sent again (`resend`); nothing is sent for a
closed or suspended case or a deadline no longer open; each missed deadline escalates once.
"""

from __future__ import annotations

import uuid
from functools import cache
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.audit.service import record, record_many
from service.auth.models import User
from service.cases.models import Case
from service.cases.stages import TERMINAL
from service.config import Settings
from service.db import utcnow
from service.errors import Conflict, NotFound
from service.deadlines.models import Deadline, DeadlineKind, DeadlineStatus, Reminder, ReminderDelivery
from service.deadlines.recipients import ORG_ACTS, RecipientLookup, recipients
from service.deadlines.rules import calendar, refresh_schedule, reminder_times
from service.labels import DEADLINE_KINDS
from service.notifications.models import Notification
from service.outbox.service import emit_many
from service.schemas import MAX_ID

CLAIM_LEASE = timedelta(minutes=5)
# A mail server down for an afternoon or a weekend must not lose a reminder: retries back off to hourly for three days.
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
RETRY_WINDOW = timedelta(days=3)


def retry_delay(attempts: int) -> timedelta:
    """How long a reminder waits after its n-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return min(RETRY_CAP, RETRY_BASE * 2 ** min(max(attempts - 1, 0), 20))


def _insert(session: Session):  # noqa: ANN202
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    insert = _insert(session)
    # executemany form: one cached statement sent in batches (a single VALUES list of N rows is compiled anew every sweep).
    session.execute(insert(Reminder.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)


def plan_reminders(session: Session, settings: Settings, now: datetime | None = None, limit: int = 5000) -> int:
    """Create reminder rows for deadlines whose next reminder time has come (one per offset and recipient)."""
    now = now or utcnow()
    cal = calendar(settings)
    due = session.execute(
        select(Deadline, Case).join(Case, Case.id == Deadline.case_id)
        .where(Deadline.status == DeadlineStatus.OPEN, Deadline.next_reminder_at <= now)
        # A concurrent sweep plans the other deadlines instead of waiting for these (SQLite serialises writers anyway).
        .order_by(Deadline.next_reminder_at).limit(limit).with_for_update(of=Deadline, skip_locked=True)
    ).all()
    rows, cards = [], []
    # Reviews and users for all due deadlines in a few queries; no autoflush, so the schedule updates go out as one batch.
    lookup = RecipientLookup(session, [d for d, _ in due])
    lookup.preload_members({case.organisation_id for d, case in due if d.kind in ORG_ACTS})
    planned: list[tuple[Deadline, Case, str, datetime, list[User]]] = []
    with session.no_autoflush:
        for d, case in due:
            passed = [(key, at) for key, at in reminder_times(cal, d) if at <= now]
            if passed and case.stage not in TERMINAL and not case.suspended:
                # After a missed sweep only the latest passed offset is sent: one reminder, not a burst.
                key, at = passed[-1]
                planned.append((d, case, key, at, recipients(session, d, case, lookup=lookup)))
            refresh_schedule(cal, d, now)
    # Like every notification: in-app always, by e-mail too unless the person chose in-app only.
    by_email = lookup.wants_email(u.id for *_, users in planned for u in users)
    fmt = _formatter(settings)
    for d, case, key, at, users in planned:
        title = reminder_title(d, case, fmt)[:300]
        for u in users:
            dedupe = f"{d.id}:{u.email}:{key}"
            cards.append({"user_id": u.id, "case_id": case.id, "kind": "reminder", "title": title,
                          "body": "", "dedupe_key": f"reminder:{dedupe}", "created_at": now})
            if u.id in by_email:
                rows.append({"deadline_id": d.id, "recipient": u.email, "recipient_user_id": u.id, "channel": "email",
                             "offset_key": key, "scheduled_for": at, "dedupe_key": dedupe, "token": str(uuid.uuid4()), "attempts": 0})
    _insert_ignore(session, rows)
    if cards:
        session.execute(_insert(session)(Notification.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]), cards)
    session.flush()
    return len(rows)


def _formatter(settings: Settings):  # noqa: ANN202
    from zoneinfo import ZoneInfo

    from service.notifications.email import SwedishFormatter

    return SwedishFormatter(ZoneInfo(settings.timezone))


def reminder_title(d: Deadline, case: Case, fmt) -> str:  # noqa: ANN001
    """The in-app card of a reminder: which deadline, which case, by when (fmt: a SwedishFormatter of the configured zone)."""
    kind = DEADLINE_KINDS.get(DeadlineKind(d.kind), str(d.kind))
    return f"Påminnelse: {kind} i {case.diarienummer or f'ärende {case.id}'} senast {fmt.frist(d.due_at)}"


def _due(now: datetime) -> list[Any]:
    """Unsent, not skipped or given up, time has come, not leased (or its lease over), not accepted by the server yet."""
    # claimed_until is the lease, and after a failure the backoff's "not before"
    free = (Reminder.claimed_until.is_(None)) | (Reminder.claimed_until < now)
    accepted = select(ReminderDelivery.reminder_id).where(ReminderDelivery.reminder_id == Reminder.id).exists()
    return [Reminder.sent_at.is_(None), Reminder.skipped_at.is_(None), Reminder.scheduled_for <= now, Reminder.gave_up_at.is_(None),
            free, ~accepted]


def count_due(session: Session, now: datetime | None = None) -> int:
    """How many reminders a sweep could claim now (to share them evenly among its connections)."""
    return session.scalar(select(func.count()).select_from(Reminder).where(*_due(now or utcnow())))


def claim_due_reminders(session: Session, now: datetime | None = None, limit: int = 500) -> list[tuple[int, str]]:
    """Lease a batch of unsent reminders to this worker (SKIP LOCKED lets several workers share the work)."""
    now = now or utcnow()
    free = (Reminder.claimed_until.is_(None)) | (Reminder.claimed_until < now)
    candidates = (
        select(Reminder.id).where(*_due(now))
        .order_by(Reminder.scheduled_for, Reminder.id).limit(limit).with_for_update(of=Reminder, skip_locked=True)
    )
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    # The lease is checked again as the rows are taken: SQLite has no row locks, and of two workers that read the same
    # rows only the first UPDATE may win them.
    won = session.execute(update(Reminder).where(Reminder.id.in_(ids), free).values(claimed_until=now + CLAIM_LEASE)
                          .returning(Reminder.id, Reminder.token).execution_options(synchronize_session=False)).all()
    return sorted((rid, token) for rid, token in won)


def reminder_emails(session: Session, reminder_ids: list[int], settings: Settings) -> list[tuple[int, dict[str, Any], str]]:
    """(id, e-mail context, dedupe key) of the reminders to send, in id order; the ones that must not be sent (case
    closed or suspended, deadline met or cancelled) are marked skipped."""
    if not reminder_ids:
        return []
    rows = session.execute(
        select(Reminder, Deadline, Case, User).join(Deadline, Deadline.id == Reminder.deadline_id)
        .join(Case, Case.id == Deadline.case_id).outerjoin(User, User.id == Reminder.recipient_user_id)
        .where(Reminder.id.in_(reminder_ids)).order_by(Reminder.id)
    ).all()
    out = []
    now = utcnow()
    for r, d, case, user in rows:
        if r.sent_at is not None or r.skipped_at is not None:
            continue
        if d.status != DeadlineStatus.OPEN or case.stage in TERMINAL or case.suspended:
            r.skipped_at = now
            r.last_error = f"skipped: deadline {d.status}, case {case.stage}"
            continue
        context = {"to": r.recipient, "recipient_name": user.full_name if user else r.recipient,
                   "deadline_kind": d.kind.value if hasattr(d.kind, "value") else d.kind,
                   "diarienummer": case.diarienummer or f"ärende {case.id}", "case_title": case.title, "due_at": d.due_at,
                   "case_url": f"{settings.public_base_url}/arenden/{case.id}"}
        out.append((r.id, context, r.dedupe_key))
    session.flush()
    return out


def reminder_email(session: Session, reminder_id: int, settings: Settings) -> tuple[dict[str, Any], str] | None:
    """The e-mail for a reminder, or None when it must not be sent (case closed, deadline met or paused)."""
    found = reminder_emails(session, [reminder_id], settings)
    return (found[0][1], found[0][2]) if found else None


@cache
def _delivery_insert(dialect: str):  # noqa: ANN202
    # Built once: it runs once per message sent, inside the send loop.
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(ReminderDelivery.__table__).on_conflict_do_nothing(index_elements=["reminder_id"])


def record_delivery(conn: Session | Connection, reminder_id: int, message_id: str, now: datetime | None = None) -> bool:
    """Write the SMTP server's acceptance to the sent-log (committed before the next send); False if it was there."""
    dialect = conn.dialect if isinstance(conn, Connection) else conn.get_bind().dialect
    return conn.execute(_delivery_insert(dialect.name), {"reminder_id": reminder_id, "message_id": message_id, "accepted_at": now or utcnow()}).rowcount == 1


def fold_deliveries(session: Session, reminder_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Mark the reminders in the sent-log sent and empty it for them: a batch's own (reminder_ids), or else the ones
    batches left whose lease is over (a batch that crashed; a live one folds its own)."""
    q = select(ReminderDelivery.reminder_id, ReminderDelivery.message_id, ReminderDelivery.accepted_at)
    if reminder_ids is not None:
        q = q.where(ReminderDelivery.reminder_id.in_(reminder_ids))
    else:
        now = now or utcnow()
        q = q.join(Reminder, Reminder.id == ReminderDelivery.reminder_id).where(
            (Reminder.claimed_until.is_(None)) | (Reminder.claimed_until < now))
    # Only the rows read here are deleted: a row another worker commits meanwhile stays for its own fold.
    rows = session.execute(q.with_for_update(of=ReminderDelivery, skip_locked=True)).all()
    if not rows:
        return 0
    session.execute(update(Reminder), [{"id": rid, "sent_at": at, "message_id": mid, "claimed_until": None} for rid, mid, at in rows])
    session.execute(delete(ReminderDelivery).where(ReminderDelivery.reminder_id.in_([rid for rid, _, _ in rows])))
    return len(rows)


def release(session: Session, reminder_ids: list[int]) -> None:
    """Give unsent reminders back before their lease ends (a batch that ran out of time)."""
    if reminder_ids:
        session.execute(update(Reminder).where(Reminder.id.in_(reminder_ids), Reminder.sent_at.is_(None)).values(claimed_until=None)
                        .execution_options(synchronize_session=False))


def mark_sent(session: Session, reminder_id: int, message_id: str | None, now: datetime | None = None) -> None:
    """Record delivery (or a skip) so no later sweep sends it again."""
    session.execute(update(Reminder).where(Reminder.id == reminder_id, Reminder.sent_at.is_(None))
                    .values(sent_at=now or utcnow(), message_id=message_id, claimed_until=None).execution_options(synchronize_session=False))


def mark_failed(session: Session, reminder_id: int, error: str, now: datetime | None = None, *, permanent: bool = False) -> None:
    """Count the failed attempt and hold the reminder back for the backoff; give up when refused or out of time."""
    mark_failed_many(session, [reminder_id], error, now, permanent=permanent)


def mark_failed_many(session: Session, reminder_ids: list[int], error: str, now: datetime | None = None, *,
                     permanent: bool = False) -> None:
    """mark_failed for each of a batch's reminders (the mail server went away before they were sent)."""
    now = now or utcnow()
    for r in session.scalars(select(Reminder).where(Reminder.id.in_(reminder_ids), Reminder.sent_at.is_(None))):
        r.attempts += 1
        r.last_error = error[:2000]
        r.claimed_until = now + retry_delay(r.attempts)
        r.first_failed_at = r.first_failed_at or now
        if permanent or now - r.first_failed_at >= RETRY_WINDOW:
            r.gave_up_at = now
    session.flush()


def resend(session: Session, user: User, reminder_id: int) -> Reminder:
    """An administrator sends a given-up reminder again (the next sweep takes it, with fresh attempts)."""
    r = session.get(Reminder, reminder_id) if 0 < reminder_id <= MAX_ID else None
    if r is None:
        raise NotFound("Påminnelsen finns inte / reminder not found")
    if r.sent_at is not None:
        raise Conflict("Påminnelsen är redan skickad / reminder already sent")
    before = {"attempts": r.attempts, "gave_up_at": r.gave_up_at.isoformat() if r.gave_up_at else None}
    r.gave_up_at, r.first_failed_at, r.attempts, r.claimed_until, r.skipped_at = None, None, 0, None, None
    r.scheduled_for = min(r.scheduled_for, utcnow())
    session.flush()
    d = session.get(Deadline, r.deadline_id)
    record(session, actor=user, action="reminder.resend", case_id=d.case_id, before=before, after={"reminder_id": r.id})
    return r


def failing(session: Session, *, limit: int = 200) -> list[Reminder]:
    """Reminders that failed and are waiting for a retry or gave up, newest failure first."""
    return list(session.scalars(
        select(Reminder).where(Reminder.sent_at.is_(None), Reminder.skipped_at.is_(None), Reminder.attempts > 0)
        .order_by(Reminder.gave_up_at.is_(None), Reminder.id.desc()).limit(limit)
    ))


def health() -> dict[str, Any]:
    """For /ready: reminders retrying and given up, and how old the oldest unsent due one is."""
    from service.db import get_sessionmaker

    try:
        with get_sessionmaker()() as session:
            unsent = Reminder.sent_at.is_(None) & Reminder.skipped_at.is_(None)
            retrying = session.scalar(select(func.count(Reminder.id)).where(unsent, Reminder.attempts > 0, Reminder.gave_up_at.is_(None)))
            gave_up = session.scalar(select(func.count(Reminder.id)).where(unsent, Reminder.gave_up_at.is_not(None)))
    except Exception as exc:  # noqa: BLE001 - informational; the database check reports the failure
        return {"error": type(exc).__name__}
    return {"retrying": retrying, "gave_up": gave_up}


def mark_missed_and_escalate(session: Session, settings: Settings, now: datetime | None = None, limit: int = 5000) -> list[int]:
    """Open deadlines past due become missed; missed ones past their escalation delay emit one escalation event."""
    now = now or utcnow()
    cal = calendar(settings)
    missed = session.execute(
        select(Deadline, Case).join(Case, Case.id == Deadline.case_id)
        .where(Deadline.status == DeadlineStatus.OPEN, Deadline.due_at < now).order_by(Deadline.due_at).limit(limit)
        .with_for_update(of=Deadline, skip_locked=True)
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
    record_many(session, [{"action": "deadline.missed", "case_id": case.id, "after": {"deadline_id": d.id, "kind": d.kind}}
                          for d, case in newly_missed])
    session.flush()
    # Locked: of two concurrent sweeps only one escalates a deadline (the other skips it, or sees escalated_at).
    due_escalations = list(session.scalars(select(Deadline).where(Deadline.status == DeadlineStatus.MISSED, Deadline.escalated_at.is_(None),
                                                                  Deadline.escalate_at <= now).limit(limit)
                                           .with_for_update(skip_locked=True)))
    for d in due_escalations:
        d.escalated_at = now
    emit_many(session, "deadline.escalated", [({"deadline_id": d.id}, d.case_id) for d in due_escalations])
    session.flush()
    return [d.id for d in due_escalations]
