"""Deadline rules: when a deadline falls due and is reminded, and which deadlines a case's moves create and close.

Contract: a deadline created on a suspended case starts SUSPENDED; a reminder whose time has already passed at creation
still goes out once (catch-up); date-only deadlines fall due at END_OF_DAY local time; schedule_followup is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.agreements import goals
from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.audit.service import record
from service.cases.models import Case
from service.cases.stages import TERMINAL, Stage
from service.config import Settings
from service.db import utcnow
from service.deadlines.calendar import END_OF_DAY, WorkingCalendar, calendar_for
from service.deadlines.models import Deadline, DeadlineKind, DeadlineStatus
from service.deadlines.policy import offset_key, policy_for
from service.followup.models import FollowUpReport

ACTIVE = (DeadlineStatus.OPEN, DeadlineStatus.SUSPENDED)


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


def refresh_schedule(cal: WorkingCalendar, d: Deadline, now: datetime) -> None:
    """Set the next reminder instant still ahead (None when all have passed)."""
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
    case = session.get(Case, case_id)
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case_id))
    if case is None or agreement is None or case.stage != Stage.FOLLOW_UP:
        return 0
    if session.scalar(select(Deadline.id).where(Deadline.case_id == case_id, Deadline.kind == DeadlineKind.FOLLOWUP_REPORT).limit(1)):
        return 0  # already scheduled
    terms = AgreementTerms.model_validate(agreement.terms)
    goals.ensure_register(session, case_id, agreement.terms)  # the indicators the reports give values for
    cal = calendar(settings)
    created = 0
    start = terms.period_start
    for item in sorted(terms.followup_schedule, key=lambda r: r.due_on):
        # A report covers the months before it is due (up to the end of the previous month), the final one the rest
        # of the agreement; each period begins the day after the previous one ended, so none overlap.
        end = terms.period_end if item.is_final else min(item.due_on.replace(day=1) - timedelta(days=1), terms.period_end)
        end = max(end, start)
        report = FollowUpReport(case_id=case_id, period_start=start, period_end=end, due_on=item.due_on, is_final=item.is_final)
        session.add(report)
        session.flush()
        create(session, case, DeadlineKind.FOLLOWUP_REPORT, settings, due_at=cal.at_local(item.due_on, END_OF_DAY),
               followup_report_id=report.id, label=item.description)
        start = end + timedelta(days=1)
        created += 1
    for n, inst in enumerate(terms.instalments, start=1):
        create(session, case, DeadlineKind.PAYMENT_INSTALMENT, settings, due_at=cal.at_local(inst.due_on, END_OF_DAY),
               label=f"Utbetalning {n}: {inst.amount_sek} kr")
        created += 1
    create(session, case, DeadlineKind.AGREEMENT_EXPIRY, settings, due_at=cal.at_local(terms.period_end, END_OF_DAY), label="Avtalet löper ut")
    record(session, actor=None, action="followup.scheduled", case_id=case_id, after={"deadlines": created + 1})
    return created + 1
