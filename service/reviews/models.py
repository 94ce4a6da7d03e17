"""Review model."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from service.cases.stages import Stage
from service.db import Base, utcnow


class ReviewStatus(StrEnum):
    """Pending until an approver decides, or cancelled when the case leaves the stage."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    """What an approver can decide."""

    APPROVE = "approve"
    REJECT = "reject"
    CHANGES_REQUESTED = "changes_requested"


DECISION_STATUS = {
    Decision.APPROVE: ReviewStatus.APPROVED,
    Decision.REJECT: ReviewStatus.REJECTED,
    Decision.CHANGES_REQUESTED: ReviewStatus.CHANGES_REQUESTED,
}


class Review(Base):
    """A request to move a case to another stage, decided by an approver."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    from_stage: Mapped[Stage] = mapped_column(String(20))
    to_stage: Mapped[Stage] = mapped_column(String(20))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    # The requester's note to the approver, kept from the organisation (cases.access.review_comment_shown).
    comment_internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_at: Mapped[datetime | None]
    status: Mapped[ReviewStatus] = mapped_column(String(20), default=ReviewStatus.PENDING)
    motivation: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        # At most one pending review per case, enforced by the database.
        Index(
            "uq_reviews_one_pending",
            "case_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )
