"""Review endpoints under a case, and the approver's queue."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import or_, select

from service.auth.models import Role
from service.cases.access import get_visible_case, visible
from service.cases.models import Case
from service.cases.router import IfMatch, parse_if_match
from service.deps import AppSettings, CurrentUser, DbSession
from service.errors import Forbidden
from service.reviews import service
from service.reviews.models import Review, ReviewStatus
from service.reviews.schemas import DecisionIn, ReassignIn, ReviewOut, ReviewRequestIn
from service.schemas import Id

router = APIRouter(tags=["reviews"])


@router.post("/cases/{case_id}/reviews", response_model=ReviewOut, status_code=201)
def request_review(case_id: Id, data: ReviewRequestIn, session: DbSession, user: CurrentUser, settings: AppSettings, if_match: IfMatch = None) -> Review:
    """Request a decision to move the case to the next stage (gates checked)."""
    case = get_visible_case(session, user, case_id)
    return service.request_review(session, user, case, settings, to_stage=data.to_stage, approver_id=data.approver_id,
                                  comment=data.comment, expected_version=parse_if_match(if_match, required=False),
                                  comment_internal=data.comment_internal)


@router.get("/cases/{case_id}/reviews", response_model=list[ReviewOut])
def list_reviews(case_id: Id, session: DbSession, user: CurrentUser) -> list[ReviewOut]:
    """All reviews of a case (an internal comment is shown to civil servants and registrars only)."""
    return service.list_for_case(session, user, get_visible_case(session, user, case_id))


@router.post("/cases/{case_id}/reviews/{review_id}/decision", response_model=ReviewOut)
def decide(case_id: Id, review_id: Id, data: DecisionIn, session: DbSession, user: CurrentUser, settings: AppSettings) -> Review:
    """Approve, reject or request changes."""
    case = get_visible_case(session, user, case_id)
    return service.decide(session, user, case, service.get_review(session, case, review_id), data.decision, data.motivation, settings)


@router.post("/cases/{case_id}/reviews/{review_id}/assign", response_model=ReviewOut)
def reassign(case_id: Id, review_id: Id, data: ReassignIn, session: DbSession, user: CurrentUser) -> Review:
    """Give a pending review to another approver of the department (who may decide its amount)."""
    case = get_visible_case(session, user, case_id)
    return service.reassign(session, user, case, service.get_review(session, case, review_id), data.approver_id)


@router.post("/cases/{case_id}/reviews/{review_id}/cancel", response_model=ReviewOut)
def cancel(case_id: Id, review_id: Id, session: DbSession, user: CurrentUser) -> Review:
    """The requester takes back a pending review."""
    case = get_visible_case(session, user, case_id)
    return service.cancel(session, user, case, service.get_review(session, case, review_id))


@router.get("/reviews/pending", response_model=list[ReviewOut])
def pending_for_me(session: DbSession, user: CurrentUser) -> list[Review]:
    """Reviews awaiting this approver's decision, oldest due first."""
    if user.role != Role.APPROVER:
        raise Forbidden()
    stmt = (
        select(Review).join(Case, Case.id == Review.case_id)
        .where(visible(user), Review.status == ReviewStatus.PENDING,
               or_(Review.approver_id.is_(None), Review.approver_id == user.id), Review.requested_by_id != user.id)
        .order_by(Review.due_at, Review.id)
    )
    return list(session.scalars(stmt))
