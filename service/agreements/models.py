"""Agreement and signature models."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class Party(StrEnum):
    """The two parties of an IOP agreement."""

    PUBLIC = "public"
    ORGANISATION = "organisation"


class Agreement(Base):
    """Structured agreement terms (validated by AgreementTerms) for one case."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    funding_amount_sek: Mapped[int] = mapped_column(BigInteger, default=0)
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic lock: two officers with the form open cannot silently overwrite each other (ETag / the form's version).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Signature(Base):
    """A party's signature of the agreement (name, role, date, and the signed copy)."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party: Mapped[Party] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(20), default="signed_copy")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("case_id", "party"),)


class AgreementGoal(Base):
    """A goal of the agreement, as registered from its complete terms (service.agreements.goals.sync)."""

    __tablename__ = "agreement_goals"
    __table_args__ = (UniqueConstraint("case_id", "position", name="uq_agreement_goals_case_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))


class AgreementIndicator(Base):
    """An indicator of a goal: unit, baseline, target and how it is measured (the reports' values point here)."""

    __tablename__ = "agreement_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("agreement_goals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(10))
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    how_measured: Mapped[str] = mapped_column(Text)


class IndicatorPeriod(Base):
    """A follow-up report (by its due date in the schedule) an indicator is reported in."""

    __tablename__ = "indicator_periods"

    indicator_id: Mapped[int] = mapped_column(ForeignKey("agreement_indicators.id", ondelete="CASCADE"), primary_key=True)
    due_on: Mapped[date] = mapped_column(primary_key=True)
