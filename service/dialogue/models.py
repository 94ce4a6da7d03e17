"""Dialogue meeting and suitability assessment models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class DialogueMeeting(Base):
    """A dialogue meeting between the organisation and the public body."""

    __tablename__ = "dialogue_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(200), default="")
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    recorder: Mapped[str | None] = mapped_column(String(200))  # protokollförare
    adjuster: Mapped[str | None] = mapped_column(String(200))  # justerare
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SuitabilityAssessment(Base):
    """The IOP checklist for one case: item key -> {answer, comment}."""

    __tablename__ = "suitability_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Another legal basis than de minimis for state aid (e.g. SGEI decision), if any.
    state_aid_other_basis: Mapped[str | None] = mapped_column(Text)
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # optimistic lock, as on agreements

    __mapper_args__ = {"version_id_col": version}
