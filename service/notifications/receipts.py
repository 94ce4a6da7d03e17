"""Receipts, after commit: the organisation's members are told that the municipality received their proposal."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.cases.models import Case
from service.notifications.service import _case_context, notify
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler


def case_submitted(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Kvittens: every active member of the case's organisation gets the diarienummer and what happens next (once)."""
    case = session.get(Case, event.payload["case_id"])
    if case is None or case.submitted_at is None:
        return
    members = list(session.scalars(select(User).where(User.organisation_id == case.organisation_id, User.role == Role.ORG_MEMBER,
                                                      User.is_active.is_(True)).order_by(User.id)))
    notify(session, members, key=f"case-submitted:{case.id}", template="case_submitted", case_id=case.id,
           title=f"Mottaget: {case.diarienummer} {case.title}",
           context={**_case_context(case, ctx), "submitted_at": case.submitted_at, "department_name": case.department.name})


HANDLERS: dict[str, Handler] = {"case.submitted": case_submitted}
