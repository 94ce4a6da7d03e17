"""Document rows: immutable, versioned, checksummed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class DocumentKind(StrEnum):
    """What a document is."""

    AGREEMENT = "agreement"
    SIGNED_AGREEMENT = "signed_agreement"
    DECISION = "decision"
    DIALOGUE_MINUTES = "dialogue_minutes"
    FOLLOWUP_REQUEST = "followup_request"
    FOLLOWUP_SUMMARY = "followup_summary"
    ATTACHMENT = "attachment"
    BOARD_MINUTES = "board_minutes"


class Document(Base):
    """One stored version of a document; rows are never updated (but marked gallrad when its object is deleted)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    # The name the file had on the uploader's computer (control characters dropped); NULL for generated documents.
    original_filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500), unique=True)
    storage_version_id: Mapped[str | None] = mapped_column(String(200))
    template_name: Mapped[str | None] = mapped_column(String(100))
    template_sha256: Mapped[str | None] = mapped_column(String(64))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # The decision a beslut document records (NULL for other documents and for a termination, which has no review).
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Gallring (service/retention): the only change a row ever gets; the object is gone, the row says when and by which
    # decision.
    disposed_at: Mapped[datetime | None]
    disposal_decision_id: Mapped[int | None] = mapped_column(ForeignKey("disposal_decisions.id"))

    __table_args__ = (
        # Internal documents are numbered on their own, so the organisation's versions have no gaps where one is hidden.
        Index("uq_documents_case_kind_internal_version", "case_id", "kind", "internal", "version", unique=True),
    )
