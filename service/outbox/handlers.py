"""Outbox handlers: notifications, decision documents, follow-up schedule, escalations. All idempotent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.cases.models import Case
from service.deadlines import service as deadlines
from service.deadlines.models import Deadline
from service.documents.models import Document, DocumentKind
from service.notifications.email import EmailDeliveryError, EmailRejected, render_email
from service.outbox.models import Notification, OutboxEvent
from service.outbox.service import Context, GiveUp, RetryLater, emit
from service.reviews.models import Review, ReviewStatus

DATE_FIELDS = ("due_at", "decided_at", "ends_on", "period_start", "period_end")
DECISION = {ReviewStatus.APPROVED: "approve", ReviewStatus.REJECTED: "reject", ReviewStatus.CHANGES_REQUESTED: "changes_requested"}


def _plain(context: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in context.items()}


def _revive(context: dict[str, Any]) -> dict[str, Any]:
    out = dict(context)
    for k in DATE_FIELDS:
        if isinstance(out.get(k), str):
            out[k] = datetime.fromisoformat(out[k]) if "T" in out[k] else date.fromisoformat(out[k])
    return out


def notify(session: Session, users: list[User], *, key: str, template: str, context: dict[str, Any], title: str,
           case_id: int | None, extra_emails: list[str] | None = None) -> None:
    """In-app notification per user (deduplicated) and one e-mail event per address."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    seen: set[str] = set()
    for u in users:
        session.execute(insert(Notification).values(user_id=u.id, case_id=case_id, kind=template, title=title,
                                                    body=context.get("motivation") or "", dedupe_key=f"{key}:{u.id}")
                        .on_conflict_do_nothing(index_elements=["dedupe_key"]))
    for name, email in [(u.full_name, u.email) for u in users] + [(e, e) for e in extra_emails or []]:
        if email in seen:
            continue
        seen.add(email)
        emit(session, "email.send", {"template": template, "key": f"{key}:{email}",
                                     "context": _plain({**context, "to": email, "recipient_name": name})}, case_id=case_id)


def _case_context(case: Case, ctx: Context) -> dict[str, Any]:
    return {"diarienummer": case.diarienummer or f"ärende {case.id}", "case_title": case.title, "organisation_name": case.organisation.name,
            "case_url": f"{ctx.settings.public_base_url}/arenden/{case.id}"}


def send_email(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """One e-mail; SMTP down is retried later, a refused recipient is recorded and not retried."""
    spec = render_email(event.payload["template"], _revive(event.payload["context"]))
    try:
        ctx.mailer.send(spec, event.payload["key"])
    except EmailRejected as exc:
        raise GiveUp(f"rejected: {exc}") from exc
    except EmailDeliveryError as exc:
        raise RetryLater(str(exc)) from exc


def review_requested(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Tell the approvers a decision is waiting."""
    review = session.get(Review, event.payload["review_id"])
    case = session.get(Case, review.case_id)
    if review.status != ReviewStatus.PENDING:
        return
    if review.approver_id:
        users = [session.get(User, review.approver_id)]
    else:
        users = [u for u in session.scalars(select(User).where(User.department_id == case.department_id, User.role == Role.APPROVER,
                                                               User.is_active.is_(True))) if u.id != review.requested_by_id]
    requester = session.get(User, review.requested_by_id)
    notify(session, users, key=f"review-requested:{review.id}", template="review_requested", case_id=case.id,
           title=f"Beslut väntar: {case.diarienummer} {case.title}",
           context={**_case_context(case, ctx), "from_stage": review.from_stage, "to_stage": review.to_stage,
                    "requested_by": requester.full_name, "due_at": review.due_at, "amount_sek": case.requested_amount_sek,
                    "review_url": f"{ctx.settings.public_base_url}/arenden/{case.id}"})


def review_decided(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Generate the decision document (once) and tell the organisation."""
    from service.documents import service as documents

    review = session.get(Review, event.payload["review_id"])
    case = session.get(Case, review.case_id)
    has_doc = session.scalar(select(Document.id).where(Document.case_id == case.id, Document.kind == DocumentKind.DECISION,
                                                       Document.created_at >= review.decided_at).limit(1))
    if not has_doc:
        documents.generate(session, ctx.store_factory(), None, case, DocumentKind.DECISION)
    members = list(session.scalars(select(User).where(User.organisation_id == case.organisation_id, User.role == Role.ORG_MEMBER,
                                                      User.is_active.is_(True))))
    decider = session.get(User, review.decided_by_id)
    notify(session, members, key=f"review-decided:{review.id}", template="decision_made", case_id=case.id,
           title=f"Beslut i {case.diarienummer}",
           context={**_case_context(case, ctx), "decision": DECISION[review.status], "decided_at": review.decided_at,
                    "decided_by": decider.full_name, "motivation": review.motivation or "", "to_stage": review.to_stage})


def agreement_in_force(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Follow-up reports, instalment and expiry deadlines from the agreement."""
    deadlines.schedule_followup(session, event.payload["case_id"], ctx.settings)


def deadline_escalated(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Tell the escalation recipients a deadline was missed."""
    d = session.get(Deadline, event.payload["deadline_id"])
    case = session.get(Case, d.case_id)
    users = deadlines.recipients(session, d, case, escalation=True)
    responsible = deadlines.recipients(session, d, case)
    extra = [case.department.escalation_email] if case.department.escalation_email else []
    notify(session, users, key=f"escalation:{d.id}", template="deadline_missed", case_id=case.id, extra_emails=extra,
           title=f"Missad frist: {case.diarienummer}",
           context={**_case_context(case, ctx), "deadline_kind": d.kind, "due_at": d.due_at,
                    "responsible_name": ", ".join(u.full_name for u in responsible) or None})


HANDLERS = {
    "email.send": send_email,
    "review.requested": review_requested,
    "review.decided": review_decided,
    "agreement.in_force": agreement_in_force,
    "deadline.escalated": deadline_escalated,
}
