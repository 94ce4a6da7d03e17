"""What follows a case change, after commit: the organisation's completion reaches the officer and whoever asked for it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.cases.models import Case
from service.notifications.service import _case_context, notify
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler
from service.reviews.models import Review, ReviewStatus


def completion_requester(session: Session, case: Case) -> User | None:
    """Who last asked the organisation to complete the case: the requester of the latest 'changes requested' review."""
    review = session.scalar(select(Review).where(Review.case_id == case.id, Review.status == ReviewStatus.CHANGES_REQUESTED)
                            .order_by(Review.decided_at.desc(), Review.id.desc()).limit(1))
    return session.get(User, review.requested_by_id) if review else None


def changes_submitted(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Tell the case's officer and the one who asked for completion that the organisation has completed the case."""
    case = session.get(Case, event.payload["case_id"])
    author = session.get(User, event.payload["user_id"])
    officer = session.get(User, case.officer_id) if case.officer_id else None
    users = [u for u in (officer, completion_requester(session, case)) if u is not None and u.is_active]
    notify(session, users, key=f"changes-submitted:{event.id}", template="changes_submitted", case_id=case.id,
           title=f"Komplettering inskickad: {case.diarienummer} {case.title}", body=f"Inskickad av {author.full_name}",
           context={**_case_context(case, ctx), "submitted_by": author.full_name})


HANDLERS: dict[str, Handler] = {"case.changes_submitted": changes_submitted}
