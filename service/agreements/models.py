"""Agreement and signature models."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
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
