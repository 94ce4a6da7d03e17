"""Follow-up report model."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class Assessment(StrEnum):
    """The officer's assessment of a submitted report."""

    APPROVED = "approved"
    NEEDS_COMPLETION = "needs_completion"


class FollowUpReport(Base):
    """One scheduled report: due date, the organisation's content, the officer's assessment."""

    __tablename__ = "followup_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    due_on: Mapped[date]
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assessment: Mapped[Assessment | None] = mapped_column(String(20))
    assessment_comment: Mapped[str | None] = mapped_column(Text)
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assessed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
