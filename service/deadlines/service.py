"""Deadlines: created as cases move, reminded exactly once, escalated when missed, paused by suspension."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.audit.service import record, text_summary
from service.auth.models import Role, User
from service.cases.models import Case
from service.cases.stages import TERMINAL, Stage
from service.config import Settings
from service.db import utcnow
from service.deadlines.calendar import WorkingCalendar, calendar_for
from service.deadlines.models import Deadline, DeadlineKind, DeadlineStatus, Reminder, Suspension
from service.deadlines.policy import offset_key, policy_for
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed

ACTIVE = (DeadlineStatus.OPEN, DeadlineStatus.SUSPENDED)
CLAIM_LEASE = timedelta(minutes=5)
MAX_SEND_ATTEMPTS = 10


def calendar(settings: Settings) -> WorkingCalendar:
    """The working-day calendar in the configured timezone."""
    return calendar_for(settings.timezone)


def compute_due(cal: WorkingCalendar, start: datetime, rule: dict[str, int]) -> datetime:
    """Due instant from a policy rule: N working days or N calendar days after start."""
    if "working_days" in rule:
        return cal.due_at(start, rule["working_days"])
    return cal.due_after_days(start, rule["days"])


def reminder_times(cal: WorkingCalendar, d: Deadline) -> list[tuple[str, datetime]]:
    """Each reminder offset of a deadline with the instant it falls due, earliest first."""
    out = []
    for off in d.reminder_offsets or []:
        if "working_days" in off:
            at = cal.reminder_time(d.due_at, offset_working_days=off["working_days"])
        else:
            at = cal.reminder_time(d.due_at, offset_days=off.get("days", 0))
        out.append((offset_key(off), at))
    return sorted(out, key=lambda x: x[1])


def _refresh_schedule(cal: WorkingCalendar, d: Deadline, now: datetime) -> None:
    """Next reminder instant still ahead (None when all have passed)."""
    upcoming = [at for _, at in reminder_times(cal, d) if at > now]
    d.next_reminder_at = min(upcoming) if upcoming else None


def create(session: Session, case: Case, kind: DeadlineKind, settings: Settings, *, start: datetime | None = None,
           due_at: datetime | None = None, review_id: int | None = None, followup_report_id: int | None = None,
           label: str = "", now: datetime | None = None) -> Deadline:
    """A new open deadline on the case, using the department's policy for the kind."""
    now = now or utcnow()
    cal = calendar(settings)
    pol = policy_for(kind, case.department.deadline_settings)
    if due_at is None:
        due_at = compute_due(cal, start or now, pol["due"])
    d = Deadline(case_id=case.id, kind=kind, due_at=due_at, original_due_at=due_at,
                 status=DeadlineStatus.SUSPENDED if case.suspended else DeadlineStatus.OPEN,
                 reminder_offsets=pol.get("reminders", []), escalation_target=pol.get("escalation"),
                 escalation_delay=pol.get("escalation_delay"), review_id=review_id, followup_report_id=followup_report_id,
                 label=label, created_at=now)
    # A reminder whose time is already past when the deadline is created still goes out once (catch-up).
    times = reminder_times(cal, d)
    d.next_reminder_at = times[0][1] if times else None
    session.add(d)
    session.flush()
    return d


def close(session: Session, case_id: int, status: DeadlineStatus, *, kinds: Iterable[DeadlineKind] | None = None,
          review_id: int | None = None, followup_report_id: int | None = None, now: datetime | None = None) -> int:
    """Mark the case's active deadlines (of the kinds / for the review or report) met or cancelled."""
    cond = [Deadline.case_id == case_id, Deadline.status.in_(ACTIVE)]
    if kinds is not None:
        cond.append(Deadline.kind.in_(list(kinds)))
    if review_id is not None:
        cond.append(Deadline.review_id == review_id)
    if followup_report_id is not None:
        cond.append(Deadline.followup_report_id == followup_report_id)
    values: dict[str, Any] = {"status": status, "next_reminder_at": None}
    if status == DeadlineStatus.MET:
        values["met_at"] = now or utcnow()
    # "fetch" keeps already loaded Deadline objects in step with the bulk update.
    return session.execute(update(Deadline).where(*cond).values(**values).execution_options(synchronize_session="fetch")).rowcount


def on_stage_entered(session: Session, case: Case, from_stage: Stage | None, to_stage: Stage, settings: Settings) -> None:
    """Create and close deadlines as the case enters a stage (same transaction as the move)."""
    if to_stage in TERMINAL:
        close(session, case.id, DeadlineStatus.CANCELLED)
        return
    if from_stage == Stage.DIALOGUE:
        close(session, case.id, DeadlineStatus.MET, kinds=[DeadlineKind.DIALOGUE])
    if from_stage == Stage.AGREEMENT:
        close(session, case.id, DeadlineStatus.MET, kinds=[DeadlineKind.AGREEMENT_SIGNATURE])
    if to_stage == Stage.IDENTIFY_NEED and case.officer_id is None:
        create(session, case, DeadlineKind.TRIAGE, settings, label="Utse handläggare")
    elif to_stage == Stage.DIALOGUE:
        create(session, case, DeadlineKind.DIALOGUE, settings, label="Dialogfasen")
    elif to_stage == Stage.AGREEMENT:
        create(session, case, DeadlineKind.AGREEMENT_SIGNATURE, settings, label="Avtalet undertecknat")


def schedule_followup(session: Session, case_id: int, settings: Settings) -> int:
    """When the agreement enters into force: report rows + deadlines, instalment and expiry reminders (idempotent)."""
    from service.agreements.models import Agreement
    from service.agreements.schemas import AgreementTerms
    from service.followup.models import FollowUpReport

    case = session.get(Case, case_id)
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case_id))
    if case is None or agreement is None or case.stage != Stage.FOLLOW_UP:
        return 0
    if session.scalar(select(Deadline.id).where(Deadline.case_id == case_id, Deadline.kind == DeadlineKind.FOLLOWUP_REPORT).limit(1)):
        return 0  # already scheduled
    terms = AgreementTerms.model_validate(agreement.terms)
    cal = calendar(settings)
    created = 0
    previous_end = terms.period_start
    for item in sorted(terms.followup_schedule, key=lambda r: r.due_on):
        period_end = min(item.due_on, terms.period_end) if not item.is_final else terms.period_end
        report = FollowUpReport(case_id=case_id, period_start=previous_end, period_end=max(period_end, previous_end),
                                due_on=item.due_on, is_final=item.is_final)
        session.add(report)
        session.flush()
        create(session, case, DeadlineKind.FOLLOWUP_REPORT, settings, due_at=cal.at_local(item.due_on, cal_end()),
               followup_report_id=report.id, label=item.description)
        previous_end = period_end
        created += 1
    for n, inst in enumerate(terms.instalments, start=1):
        create(session, case, DeadlineKind.PAYMENT_INSTALMENT, settings, due_at=cal.at_local(inst.due_on, cal_end()),
               label=f"Utbetalning {n}: {inst.amount_sek} kr")
        created += 1
    create(session, case, DeadlineKind.AGREEMENT_EXPIRY, settings, due_at=cal.at_local(terms.period_end, cal_end()), label="Avtalet löper ut")
    record(session, actor=None, action="followup.scheduled", case_id=case_id, after={"deadlines": created + 1})
    return created + 1


def cal_end():  # noqa: ANN201
    """End of the local day, the due time of date-only deadlines."""
    from service.deadlines.calendar import END_OF_DAY

    return END_OF_DAY


# --------------------------------------------------------------------------- recipients


def _dept_users(session: Session, case: Case, role: Role) -> list[User]:
    return list(session.scalars(select(User).where(User.department_id == case.department_id, User.role == role, User.is_active.is_(True))))


class RecipientLookup:
    """Reviews, users and staff lists that recipients() needs, each fetched once per sweep (not once per deadline).

    Holding the objects also keeps them in the session's (weak) identity map, so a later get() does not query again.
    """

    def __init__(self, session: Session, deadlines: Iterable[Deadline] = ()) -> None:
        from service.reviews.models import Review

        self.session = session
        self._reviews: dict[int, Any] = {}
        self._users: dict[int, User | None] = {}
        self._staff: dict[tuple[int, Role], list[User]] = {}
        self._members: dict[int, list[User]] = {}
        review_ids = sorted({d.review_id for d in deadlines if d.review_id})
        for chunk in _chunks(review_ids):
            self._reviews.update((r.id, r) for r in session.scalars(select(Review).where(Review.id.in_(chunk))))
        self._reviews.update((i, None) for i in review_ids if i not in self._reviews)
        self.preload_users({r.approver_id for r in self._reviews.values() if r is not None and r.approver_id})

    def preload_users(self, ids: Iterable[int]) -> None:
        """Fetch users by id in one query per chunk."""
        missing = sorted(set(ids) - set(self._users))
        for chunk in _chunks(missing):
            self._users.update((u.id, u) for u in self.session.scalars(select(User).where(User.id.in_(chunk))))
        self._users.update((i, None) for i in missing if i not in self._users)

    def review(self, review_id: int):  # noqa: ANN201
        """session.get(Review, id), cached."""
        from service.reviews.models import Review

        if review_id not in self._reviews:
            self._reviews[review_id] = self.session.get(Review, review_id)
        return self._reviews[review_id]

    def user(self, user_id: int) -> User | None:
        """session.get(User, id), cached."""
        if user_id not in self._users:
            self._users[user_id] = self.session.get(User, user_id)
        return self._users[user_id]

    def staff(self, case: Case, role: Role) -> list[User]:
        """Active users of the case's department in a role, cached per department and role."""
        key = (case.department_id, role)
        if key not in self._staff:
            self._staff[key] = _dept_users(self.session, case, role)
        return list(self._staff[key])

    def members(self, case: Case) -> list[User]:
        """Active members of the case's organisation, cached per organisation."""
        if case.organisation_id not in self._members:
            self._members[case.organisation_id] = list(self.session.scalars(
                select(User).where(User.organisation_id == case.organisation_id, User.role == Role.ORG_MEMBER, User.is_active.is_(True))))
        return list(self._members[case.organisation_id])


def _chunks(ids: list[int], size: int = 1000) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def recipients(session: Session, d: Deadline, case: Case, *, escalation: bool = False, lookup: RecipientLookup | None = None) -> list[User]:
    """Who is reminded of (or told about a missed) deadline (`lookup` shares fetched rows across many deadlines)."""
    lk = lookup or RecipientLookup(session)
    officer = [case.officer] if case.officer else []
    if escalation:
        target = d.escalation_target or "officer"
        if target == "approvers":
            return lk.staff(case, Role.APPROVER)
        if target == "manager":
            review = lk.review(d.review_id) if d.review_id else None
            approvers = [lk.user(review.approver_id)] if review and review.approver_id else lk.staff(case, Role.APPROVER)
            managers = {a.manager_id for a in approvers if a and a.manager_id}
            found = [u for u in (lk.user(m) for m in managers) if u]
            return found or lk.staff(case, Role.APPROVER)
        if target == "officer+approver":
            return officer + lk.staff(case, Role.APPROVER)
        return officer or lk.staff(case, Role.APPROVER)
    if d.kind == DeadlineKind.TRIAGE:
        return lk.staff(case, Role.OFFICER)
    if d.kind == DeadlineKind.REVIEW:
        review = lk.review(d.review_id) if d.review_id else None
        if review and review.approver_id:
            return [lk.user(review.approver_id)]
        return [u for u in lk.staff(case, Role.APPROVER) if not review or u.id != review.requested_by_id]
    if d.kind == DeadlineKind.FOLLOWUP_REPORT:
        return lk.members(case) + officer
    return officer or lk.staff(case, Role.OFFICER)


# --------------------------------------------------------------------------- sweep


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
            _refresh_schedule(cal, d, now)
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
    from service.outbox.service import emit

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


# --------------------------------------------------------------------------- suspension and extension


def _ensure_officer(user: User, case: Case) -> None:
    if user.role not in (Role.OFFICER, Role.APPROVER) or user.department_id != case.department_id:
        raise Forbidden("Endast förvaltningens handläggare och beslutsfattare / only the department's civil servants")


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
        _refresh_schedule(cal, d, now)
        moved.append({"deadline_id": d.id, "from": before.isoformat(), "to": d.due_at.isoformat()})
    _drop_unsent(session, [m["deadline_id"] for m in moved])
    s.ended_at, s.ended_by_id, s.working_days = now, user.id, days
    case.suspended = False
    session.flush()
    record(session, actor=user, action="case.resumed", case_id=case.id, after={"working_days": days, "moved": moved})
    return s


def _drop_unsent(session: Session, deadline_ids: list[int]) -> None:
    """Unsent reminders were timed for the old due date; the next sweep plans them anew."""
    if deadline_ids:
        session.execute(delete(Reminder).where(Reminder.deadline_id.in_(deadline_ids), Reminder.sent_at.is_(None)))


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
    if d.status not in (DeadlineStatus.OPEN, DeadlineStatus.SUSPENDED, DeadlineStatus.MISSED):
        raise Conflict(f"Fristen är {d.status} och kan inte förlängas / deadline cannot be extended")
    if (due_on is None) == (working_days is None):
        raise ValidationFailed(errors=[{"field": "due_on", "message": "Ange antingen due_on eller working_days / give one of due_on or working_days"}])
    now = now or utcnow()
    cal = calendar(settings)
    before = d.due_at
    new_due = cal.at_local(due_on, cal_end()) if due_on else cal.shift_by_working_days(d.due_at, working_days or 0)
    if new_due <= before:
        raise ValidationFailed(errors=[{"field": "due_on", "message": "En förlängning måste flytta fristen framåt / must move the deadline later"}])
    d.due_at = new_due
    d.extension_reason = reason
    if d.status == DeadlineStatus.MISSED and new_due > now:
        d.status, d.missed_at, d.escalate_at = DeadlineStatus.OPEN, None, None
    _refresh_schedule(cal, d, now)
    _drop_unsent(session, [d.id])
    session.flush()
    record(session, actor=user, action="deadline.extended", case_id=case.id,
           after={"deadline_id": d.id, "from": before.isoformat(), "to": new_due.isoformat(), **text_summary(reason=reason)})
    return d


__all__ = ["and_", "create", "close", "plan_reminders", "recipients", "RecipientLookup", "claim_due_reminders", "mark_sent", "mark_missed_and_escalate",
           "suspend", "resume", "extend", "schedule_followup"]
