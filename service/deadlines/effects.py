"""What follows in the deadlines' domain, after commit: an agreement's schedule, a missed deadline's escalation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.cases.models import Case
from service.deadlines.models import Deadline
from service.deadlines.recipients import recipients
from service.deadlines.rules import schedule_followup
from service.notifications.service import _case_context, notify
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler


def agreement_in_force(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Follow-up reports, instalment and expiry deadlines from the agreement."""
    schedule_followup(session, event.payload["case_id"], ctx.settings)


def deadline_escalated(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Tell the escalation recipients a deadline was missed."""
    d = session.get(Deadline, event.payload["deadline_id"])
    case = session.get(Case, d.case_id)
    users = recipients(session, d, case, escalation=True)
    responsible = recipients(session, d, case)
    extra = [case.department.escalation_email] if case.department.escalation_email else []
    notify(session, users, key=f"escalation:{d.id}", template="deadline_missed", case_id=case.id, extra_emails=extra,
           title=f"Missad frist: {case.diarienummer}",
           context={**_case_context(case, ctx), "deadline_kind": d.kind, "due_at": d.due_at,
                    "responsible_name": ", ".join(u.full_name for u in responsible) or None})


HANDLERS: dict[str, Handler] = {
    "agreement.in_force": agreement_in_force,
    "deadline.escalated": deadline_escalated,
}
