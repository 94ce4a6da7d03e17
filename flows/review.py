"""review_step: make sure a review request has its deadline and its approvers are told."""

from __future__ import annotations

from prefect import flow
from sqlalchemy import select

from flows.runtime import outbox_context, session_factory
from service.config import get_settings
from service.deadlines import rules as deadlines
from service.deadlines.models import Deadline, DeadlineKind
from service.outbox.models import OutboxEvent
from service.outbox.service import emit, process
from service.reviews.models import Review, ReviewStatus


@flow(name="review_step")
async def review_step(review_id: int) -> dict[str, object]:
    """Idempotently ensure the review deadline and notification exist, then deliver what is due.

    Escalation on timeout is the deadline sweep's job; the human decision comes through the API.
    """
    factory = session_factory()
    with factory() as s, s.begin():
        review = s.get(Review, review_id)
        if review is None or review.status != ReviewStatus.PENDING:
            return {"review_id": review_id, "pending": False}
        case = review.case_id
        if not s.scalar(select(Deadline.id).where(Deadline.review_id == review_id)):
            from service.cases.models import Case

            deadlines.create(s, s.get(Case, case), DeadlineKind.REVIEW, get_settings(), due_at=review.due_at, review_id=review_id)
        if not s.scalar(select(OutboxEvent.id).where(OutboxEvent.topic == "review.requested", OutboxEvent.case_id == case)):
            emit(s, "review.requested", {"review_id": review_id}, case_id=case)
    result = process(factory, outbox_context())
    return {"review_id": review_id, "pending": True, "processed": result.processed}
