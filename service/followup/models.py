"""Follow-up report model."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, utcnow


class Assessment(StrEnum):
    """The officer's assessment of a submitted report."""

    APPROVED = "approved"
    NEEDS_COMPLETION = "needs_completion"


class Rating(StrEnum):
    """The officer's assessment of one indicator in a report."""

    MET = "met"
    PARTLY = "partly"
    NOT_MET = "not_met"


RATING_LABELS = {Rating.MET: "Uppnått", Rating.PARTLY: "Delvis uppnått", Rating.NOT_MET: "Inte uppnått"}


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
    # The achieved values, by the indicator's place in the agreement (loaded with the report: API and pages show them).
    results: Mapped[list[IndicatorResult]] = relationship(
        back_populates="report", lazy="selectin", cascade="all, delete-orphan", order_by="IndicatorResult.indicator_id")


class IndicatorResult(Base):
    """An indicator's achieved value in one report, the organisation's comment, and the officer's assessment of it."""

    __tablename__ = "indicator_results"
    __table_args__ = (UniqueConstraint("report_id", "indicator_id", name="uq_indicator_results_report_indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("followup_reports.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("agreement_indicators.id"), index=True)
    value: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    rating: Mapped[Rating | None] = mapped_column(String(10))
    rating_comment: Mapped[str | None] = mapped_column(Text)

    report: Mapped[FollowUpReport] = relationship(back_populates="results")
