"""What follows a review, after commit: the approvers are told a decision waits; each decision (a termination too) makes its own document and is told."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements import amounts
from service.auth.models import Role, User
from service.cases.models import Case
from service.cases.stages import Stage
from service.documents.models import Document, DocumentKind
from service.labels import DECISIONS_IN_TEXT, REVIEW_DECIDED, STAGES
from service.notifications.service import _case_context, notify
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler
from service.reviews.models import Decision, Review, ReviewStatus

DECISION = {ReviewStatus.APPROVED: "approve", ReviewStatus.REJECTED: "reject", ReviewStatus.CHANGES_REQUESTED: "changes_requested"}


def review_requested(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Tell the approvers a decision is waiting."""
    review = session.get(Review, event.payload["review_id"])
    if review.status == ReviewStatus.PENDING:
        _tell_approvers(session, review, ctx, key=f"review-requested:{review.id}")


def review_reassigned(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Tell the approver(s) a pending review now waits for, unless it moved on again before this ran."""
    review = session.get(Review, event.payload["review_id"])
    if review.status == ReviewStatus.PENDING and review.approver_id == event.payload.get("approver_id"):
        _tell_approvers(session, review, ctx, key=f"review-reassigned:{event.id}")


def _tell_approvers(session: Session, review: Review, ctx: Context, *, key: str) -> None:
    case = session.get(Case, review.case_id)
    amount = amounts.decided_amount(session, case)
    # Unassigned: those who may decide it (delegation covers the amount, not the requester).
    users = [session.get(User, review.approver_id)] if review.approver_id else amounts.eligible_approvers(session, case, amount, review.requested_by_id)
    requester = session.get(User, review.requested_by_id)
    notify(session, users, key=key, template="review_requested", case_id=case.id,
           title=f"Beslut väntar: {case.diarienummer} {case.title}",
           context={**_case_context(case, ctx), "from_stage": review.from_stage, "to_stage": review.to_stage,
                    "requested_by": requester.full_name, "due_at": review.due_at, "amount_sek": amount,
                    "review_url": f"{ctx.settings.public_base_url}/arenden/{case.id}"})


def _members(session: Session, case: Case) -> list[User]:
    return list(session.scalars(select(User).where(User.organisation_id == case.organisation_id, User.role == Role.ORG_MEMBER,
                                                   User.is_active.is_(True))))


def review_decided(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Generate this review's own decision document (once) and tell the organisation."""
    from service.documents import service as documents

    review = session.get(Review, event.payload["review_id"])
    case = session.get(Case, review.case_id)
    # Keyed by the review: several decisions processed in one run each get their document, a retry none twice.
    has_doc = session.scalar(select(Document.id).where(Document.review_id == review.id, Document.kind == DocumentKind.DECISION).limit(1))
    if not has_doc:
        documents.generate(session, ctx.store_factory(), None, case, DocumentKind.DECISION, review=review, settings=ctx.settings)
    decider = session.get(User, review.decided_by_id)
    decision = DECISION[review.status]
    context = {**_case_context(case, ctx), "decision": decision, "decided_at": review.decided_at,
               "decided_by": decider.full_name, "motivation": review.motivation or "", "to_stage": review.to_stage}
    what = DECISIONS_IN_TEXT[Decision(decision)]
    notify(session, _members(session, case), key=f"review-decided:{review.id}", template="decision_made", case_id=case.id,
           title=f"Beslut i {case.diarienummer}: {what}", context=context)
    # The requester and the case's officer act next (go on, or help the organisation complete): they are told too.
    staff = [u for u in (session.get(User, review.requested_by_id), session.get(User, case.officer_id) if case.officer_id else None)
             if u is not None and u.is_active and u.id != decider.id]
    route = f"{STAGES[Stage(review.from_stage)].lower()} → {STAGES[Stage(review.to_stage)].lower()}"
    notify(session, staff, key=f"review-decided-staff:{review.id}", template="review_decided", case_id=case.id,
           title=f"{REVIEW_DECIDED[ReviewStatus(review.status)]} ({route}): {case.diarienummer} {case.title}",
           body=f"Beslutat av {decider.full_name}. Motivering: {review.motivation}" if review.motivation else f"Beslutat av {decider.full_name}.",
           context={**context, "from_stage": review.from_stage})


def case_terminated(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """A termination is a decision too: its own beslut document (once) and the organisation is told."""
    from service.documents import builders
    from service.documents import service as documents

    case = session.get(Case, event.payload["case_id"])
    terminated = builders.termination_event(session, case)
    if terminated is None:
        return  # the termination was rolled back; nothing to document
    has_doc = session.scalar(select(Document.id).where(Document.case_id == case.id, Document.kind == DocumentKind.DECISION,
                                                       Document.review_id.is_(None), Document.created_at >= terminated.at).limit(1))
    if not has_doc:
        documents.generate(session, ctx.store_factory(), None, case, DocumentKind.DECISION, settings=ctx.settings)
    decider = session.get(User, terminated.actor_id)
    notify(session, _members(session, case), key=f"case-terminated:{case.id}", template="partnership_terminated", case_id=case.id,
           title=f"Partnerskapet avslutas: {case.diarienummer}",
           context={**_case_context(case, ctx), "decided_at": terminated.at, "decided_by": decider.full_name if decider else "",
                    "motivation": case.close_reason or ""})


HANDLERS: dict[str, Handler] = {
    "review.requested": review_requested,
    "review.reassigned": review_reassigned,
    "review.decided": review_decided,
    "case.terminated": case_terminated,
}
