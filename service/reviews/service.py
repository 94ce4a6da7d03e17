"""Review use cases: request (gates), decide (four-eyes, delegated limit, exactly one winner)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.agreements import amounts
from service.audit.service import digest, record
from service.diarium import service as diarium
from service.auth.models import Role, User
from service.cases import gates
from service.cases.access import review_comment_shown
from service.cases.models import Case
from service.cases.service import check_version, has_pending_review, move, snapshot
from service.cases.stages import NEXT_BY_REVIEW, Action, Stage, ensure_transition
from service.config import Settings
from service.db import utcnow
from service.deadlines import rules as deadlines
from service.deadlines.calendar import calendar_for
from service.deadlines.models import DeadlineKind, DeadlineStatus
from service.errors import Conflict, Forbidden, GateFailed, NotFound, ValidationFailed
from service.outbox.service import emit
from service.reviews.models import DECISION_STATUS, Decision, Review, ReviewStatus
from service.reviews.schemas import ReviewOut
from service.schemas import MAX_ID


def _approver(session: Session, case: Case, approver_id: int | None, requester_id: int) -> User | None:
    """The named approver, who must be able to decide this review; or, unnamed, proof that someone can (422/409 why not)."""
    amount = amounts.decided_amount(session, case)
    if approver_id is None:
        if not amounts.eligible_approvers(session, case, amount, requester_id):
            raise Conflict(
                f"Ingen beslutsfattare i förvaltningen kan besluta om {amount:,} kr (delegation, fyraögonsprincipen) "
                f"/ no approver of the department can decide this amount".replace(",", " "),
                amount_sek=amount,
            )
        return None
    # Ids beyond the column range (web forms pass them unchecked) name no user and would fail in the driver.
    approver = session.get(User, approver_id) if 0 < approver_id <= MAX_ID else None
    if approver is None or approver.role != Role.APPROVER or approver.department_id != case.department_id or not approver.is_active:
        raise ValidationFailed(errors=[{"field": "approver_id", "message": "Måste vara en beslutsfattare i ärendets förvaltning / must be an approver of the case's department"}])
    if approver.id == requester_id:
        raise ValidationFailed(errors=[{"field": "approver_id", "message": "Fyraögonsprincipen: du kan inte tilldela dig själv din egen begäran / four-eyes: you cannot decide your own request"}])
    return approver  # whether their delegation covers the amount is the gates' delegation item (409 with the rest)


def request_review(session: Session, user: User, case: Case, settings: Settings, *, to_stage: Stage | None,
                   approver_id: int | None, comment: str, expected_version: int | None = None, comment_internal: bool = False) -> Review:
    """An officer of the department asks for the next stage; gates are checked now."""
    check_version(case, expected_version)
    if user.role not in (Role.OFFICER, Role.APPROVER) or user.department_id != case.department_id:
        raise Forbidden("Endast handläggare i förvaltningen begär beslut / only the department's civil servants request reviews")
    target = to_stage or NEXT_BY_REVIEW.get(case.stage)
    if target is None:
        ensure_transition(case.stage, case.stage)  # raises the standard 409 naming the stage
        raise AssertionError("unreachable")
    ensure_transition(case.stage, target, Action.REVIEW_APPROVE)
    if target != NEXT_BY_REVIEW.get(case.stage):
        raise Conflict("Granskning kan bara begäras till nästa steg / reviews move one step", current_stage=case.stage, requested_stage=target)
    if case.open_for_changes:
        raise Conflict("Organisationen kompletterar ärendet; begär granskning när kompletteringen skickats in / waiting for the organisation's changes")
    if has_pending_review(session, case.id):
        raise Conflict("Det finns redan en granskning som väntar på beslut / a review is already pending")
    approver = _approver(session, case, approver_id, user.id)
    missing = gates.check(session, case, target, settings, approver)
    if missing:
        raise GateFailed(
            f"{len(missing)} villkor saknas för steget / {len(missing)} requirement(s) missing",
            errors=missing, current_stage=case.stage, requested_stage=target,
        )
    now = utcnow()
    cal = calendar_for(settings.timezone)
    review = Review(case_id=case.id, from_stage=case.stage, to_stage=target, requested_by_id=user.id, requested_at=now,
                    comment=comment, comment_internal=comment_internal, approver_id=approver.id if approver else None,
                    due_at=cal.due_at(now, settings.review_due_working_days), status=ReviewStatus.PENDING)
    session.add(review)
    session.flush()
    deadlines.create(session, case, DeadlineKind.REVIEW, settings, due_at=review.due_at, review_id=review.id, label="Beslut i granskning")
    emit(session, "review.requested", {"review_id": review.id}, case_id=case.id)
    record(session, actor=user, action="review.requested", case_id=case.id,
           after={"review_id": review.id, "from_stage": review.from_stage, "to_stage": target, "approver_id": review.approver_id})
    return review


def get_review(session: Session, case: Case, review_id: int) -> Review:
    """A review of a visible case, or 404."""
    review = session.get(Review, review_id) if 0 < review_id <= MAX_ID else None  # larger ids overflow the driver
    if review is None or review.case_id != case.id:
        raise NotFound("Granskningen finns inte / Review not found")
    return review


def decide(session: Session, user: User, case: Case, review: Review, decision: Decision, motivation: str, settings: Settings) -> Review:
    """Approve, reject or request changes; exactly one concurrent decision wins."""
    if user.role != Role.APPROVER or user.department_id != case.department_id:
        raise Forbidden("Endast beslutsfattare i förvaltningen kan besluta / only the department's approvers decide")
    if review.status != ReviewStatus.PENDING:
        raise Conflict("Granskningen är redan avgjord / review already decided", review_status=review.status)
    if review.requested_by_id == user.id:
        raise Forbidden("Fyraögonsprincipen: du kan inte besluta om din egen begäran / four-eyes: you requested this review")
    if review.approver_id is not None and review.approver_id != user.id:
        raise Forbidden("Granskningen är tilldelad en annan beslutsfattare / review assigned to another approver")
    amounts.ensure_within_delegation(user, amounts.decided_amount(session, case))
    if decision != Decision.APPROVE and not motivation.strip():
        raise ValidationFailed(errors=[{"field": "motivation", "message": "Motivering krävs vid avslag eller begärd komplettering / motivation required"}])
    if decision == Decision.APPROVE:
        missing = gates.check(session, case, review.to_stage, settings, user)
        if missing:
            raise GateFailed("Villkoren är inte längre uppfyllda / requirements no longer met", errors=missing,
                             current_stage=case.stage, requested_stage=review.to_stage)
    now = utcnow()
    # The conditional UPDATE is the arbiter: of two concurrent deciders only one sees a pending row.
    won = session.execute(
        update(Review)
        .where(Review.id == review.id, Review.status == ReviewStatus.PENDING)
        .values(status=DECISION_STATUS[decision], motivation=motivation, decided_by_id=user.id, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise Conflict("Granskningen avgjordes samtidigt av någon annan / review was decided concurrently")
    session.refresh(review)
    before = snapshot(case)
    if decision == Decision.APPROVE:
        move(session, case, review.to_stage, actor=user, action=Action.REVIEW_APPROVE, review_id=review.id, reason=motivation or None)
    elif decision == Decision.REJECT:
        move(session, case, Stage.REJECTED, actor=user, action=Action.REVIEW_REJECT, review_id=review.id, reason=motivation)
        case.close_reason = motivation
    else:
        case.open_for_changes = True
    deadlines.close(session, case.id, DeadlineStatus.MET, review_id=review.id)
    emit(session, "review.decided", {"review_id": review.id}, case_id=case.id)
    if decision == Decision.APPROVE and review.to_stage == Stage.FOLLOW_UP:
        emit(session, "agreement.in_force", {"case_id": case.id}, case_id=case.id)
    # Touch the case so its version moves and a concurrent edit of it fails its optimistic lock.
    case.updated_at = now
    session.flush()
    record(session, actor=user, action=f"review.{review.status}", case_id=case.id, before=before,
           after={**snapshot(case), "review_id": review.id, "motivation_sha256": digest(motivation)})
    diarium.register_decision(session, case, review)
    return review


def reassign(session: Session, user: User, case: Case, review: Review, approver_id: int | None) -> Review:
    """A civil servant of the department gives a pending review to another approver (or to any who may decide it)."""
    if user.role not in (Role.OFFICER, Role.APPROVER) or user.department_id != case.department_id:
        raise Forbidden("Endast handläggare och beslutsfattare i förvaltningen omfördelar / only the department's civil servants reassign")
    if review.status != ReviewStatus.PENDING:
        raise Conflict("Granskningen är redan avgjord / review already decided", review_status=review.status)
    approver = _approver(session, case, approver_id, review.requested_by_id)
    missing = gates.delegation(session, case, approver)
    if missing:
        raise GateFailed("Beslutsfattaren kan inte besluta om beloppet / the approver cannot decide this amount", errors=missing)
    before = review.approver_id
    won = session.execute(
        update(Review).where(Review.id == review.id, Review.status == ReviewStatus.PENDING)
        .values(approver_id=approver.id if approver else None).execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise Conflict("Granskningen avgjordes samtidigt / review was decided concurrently")
    session.refresh(review)
    emit(session, "review.reassigned", {"review_id": review.id, "approver_id": review.approver_id}, case_id=case.id)
    record(session, actor=user, action="review.reassigned", case_id=case.id,
           before={"review_id": review.id, "approver_id": before}, after={"review_id": review.id, "approver_id": review.approver_id})
    return review


def cancel(session: Session, user: User, case: Case, review: Review) -> Review:
    """The requester takes back a pending review."""
    if review.requested_by_id != user.id:
        raise Forbidden("Endast den som begärde granskningen kan återta den / only the requester cancels")
    won = session.execute(
        update(Review).where(Review.id == review.id, Review.status == ReviewStatus.PENDING)
        .values(status=ReviewStatus.CANCELLED, decided_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise Conflict("Granskningen är redan avgjord / review already decided")
    session.refresh(review)
    deadlines.close(session, case.id, DeadlineStatus.CANCELLED, review_id=review.id)
    record(session, actor=user, action="review.cancelled", case_id=case.id, after={"review_id": review.id})
    return review


def list_for_case(session: Session, user: User, case: Case) -> list[ReviewOut]:
    """Reviews of a case, newest first; an internal comment only for those who see internal notes."""
    reviews = session.scalars(select(Review).where(Review.case_id == case.id).order_by(Review.requested_at.desc(), Review.id.desc()))
    out = []
    for r in reviews:
        shown = ReviewOut.model_validate(r)
        if not review_comment_shown(user, r):
            shown.comment = ""
        out.append(shown)
    return out
