"""Diary entry model."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class Direction(StrEnum):
    """How the handling came to the case: received, drawn up here, or sent out."""

    INCOMING = "inkommande"
    DRAWN_UP = "upprättad"
    OUTGOING = "utgående"


class DiaryEntry(Base):
    """One registered allmän handling of a case: ``<diarienummer>-<number>``; `version` is the optimistic lock (ETag)."""

    __tablename__ = "diary_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    number: Mapped[int] = mapped_column(Integer)
    entry_date: Mapped[date] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(String(12))
    counterpart: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(300))
    document_type: Mapped[str] = mapped_column(String(80))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    osl_reference: Mapped[str | None] = mapped_column(String(120))
    # Internal documents are allmänna handlingar too, but the organisation does not see that they exist (cases.access).
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    # The entry outlives its handling: a gallrad document's entry says when and by which gallringsbeslut.
    disposed_at: Mapped[datetime | None]
    disposal_decision_id: Mapped[int | None] = mapped_column(ForeignKey("disposal_decisions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        UniqueConstraint("case_id", "number", name="uq_diary_entries_case_number"),
        Index("ix_diary_entries_entry_date", "entry_date"),
    )
