"""Who asked the organisation to complete a case, when and with which words: an officer directly, or an approver's decision.

The latest request wins; a review decision is credited to its decider (who asked for completion) and names the review's
requester (who prepared the case), a direct request to the officer who wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.cases.models import Case, CompletionRequest
from service.reviews.models import Review, ReviewStatus


@dataclass(frozen=True)
class CompletionAsk:
    """One request for completion, whichever way it was made."""

    by_id: int
    at: datetime
    message: str
    review_id: int | None = None
    prepared_by_id: int | None = None  # a review's requester: who acts on the completion next


def latest(session: Session, case: Case) -> CompletionAsk | None:
    """The newest request for completion of the case, or None."""
    review = session.scalar(select(Review).where(Review.case_id == case.id, Review.status == ReviewStatus.CHANGES_REQUESTED)
                            .order_by(Review.decided_at.desc(), Review.id.desc()).limit(1))
    direct = session.scalar(select(CompletionRequest).where(CompletionRequest.case_id == case.id)
                            .order_by(CompletionRequest.requested_at.desc(), CompletionRequest.id.desc()).limit(1))
    asks = []
    if review is not None and review.decided_by_id is not None and review.decided_at is not None:
        asks.append(CompletionAsk(review.decided_by_id, review.decided_at, review.motivation or "", review.id, review.requested_by_id))
    if direct is not None:
        asks.append(CompletionAsk(direct.requested_by_id, direct.requested_at, direct.message))
    return max(asks, key=lambda a: a.at, default=None)
