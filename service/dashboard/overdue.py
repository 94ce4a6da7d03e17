"""What "overdue" means, the one definition for lists, filters, exports, dashboards and the case page.

A case is overdue while it has a pending review past its due time, an open deadline past its due
time (the sweep has not run yet), or a missed deadline (the sweep marked it; it stays overdue until
it is extended or the case leaves its stage, which cancels or meets it). A suspended deadline is
not overdue: its clock stands still.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.cases.access import visible
from service.cases.models import Case
from service.db import utcnow
from service.deadlines.models import Deadline, DeadlineStatus
from service.deps import Principal
from service.reviews.models import Review, ReviewStatus


def deadline_overdue(now: datetime | None = None) -> ColumnElement[bool]:
    """SQL condition for a deadline row that is overdue."""
    now = now or utcnow()
    return or_(Deadline.status == DeadlineStatus.MISSED, (Deadline.status == DeadlineStatus.OPEN) & (Deadline.due_at < now))


def review_overdue(now: datetime | None = None) -> ColumnElement[bool]:
    """SQL condition for a review row whose decision is overdue."""
    return (Review.status == ReviewStatus.PENDING) & (Review.due_at < (now or utcnow()))


def overdue_condition(now: datetime | None = None) -> ColumnElement[bool]:
    """SQL condition (correlated to Case) for an overdue case."""
    now = now or utcnow()
    return or_(exists().where(Review.case_id == Case.id, review_overdue(now)),
               exists().where(Deadline.case_id == Case.id, deadline_overdue(now)))


def overdue_case_ids(session: Session, user: User | Principal, now: datetime | None = None) -> set[int]:
    """Ids of the overdue cases the user may see."""
    return set(session.scalars(select(Case.id).where(visible(user), overdue_condition(now))))


def is_overdue(session: Session, case: Case, now: datetime | None = None) -> bool:
    """Whether one (already visible) case is overdue."""
    return bool(session.scalar(select(Case.id).where(Case.id == case.id, overdue_condition(now))))
