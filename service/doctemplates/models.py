"""Uploaded template versions: immutable rows, the bytes in the object store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class DocumentTemplate(Base):
    """One uploaded version of a document kind's template (version 0 is the shipped file and has no row)."""

    __tablename__ = "document_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500), unique=True)
    storage_version_id: Mapped[str] = mapped_column(String(200))
    variables: Mapped[Any] = mapped_column(JSON)  # the context fields the template uses
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("uq_document_templates_kind_version", "kind", "version", unique=True),)
