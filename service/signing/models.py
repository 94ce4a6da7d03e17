"""Signing orders: the agreement version sent for signature and, per signatory, who signed it, when and what."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class OrderStatus(StrEnum):
    """Where a signing order stands."""

    OPEN = "open"
    COMPLETED = "completed"
    # A newer agreement version was invited for signature: this one can no longer be signed.
    SUPERSEDED = "superseded"


class SigningOrder(Base):
    """One agreement version (the generated .docx) as a PDF/A with a signature page, sent to its signatories in order."""

    __tablename__ = "signing_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The agreement version signed (the generated .docx) and the PDF/A prepared from it for signing.
    source_document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    # The newest signed PDF (after each signature; the fully signed agreement once completed).
    signed_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    provider: Mapped[str] = mapped_column(String(40))
    provider_ref: Mapped[str] = mapped_column(String(200))
    status: Mapped[OrderStatus] = mapped_column(String(20), default=OrderStatus.OPEN)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class SigningInvitation(Base):
    """A named signatory of one party, invited to sign an order in turn (position 1 first)."""

    __tablename__ = "signing_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("signing_orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    party: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    field_name: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[datetime | None]
    # The PDF the signatory signed (its sha256: exactly that version) and the PDF with their signature added.
    signed_over_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))

    __table_args__ = (UniqueConstraint("order_id", "position"), UniqueConstraint("order_id", "party"))
