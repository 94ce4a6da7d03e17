"""Gallring decisions and their items: the proposed list, what the registrar approved, and what became of each object."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class DecisionStatus(StrEnum):
    """A gallring decision's course: proposed list, approved by a registrar (being executed), executed."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    EXECUTED = "executed"


class ItemStatus(StrEnum):
    """One handling on the list: proposed, approved (to delete), left out by the registrar, waiting for its lock, gallrad."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    EXCLUDED = "excluded"
    WAITING = "waiting"
    DISPOSED = "disposed"


class DisposalDecision(Base):
    """A gallringsbeslut: a list of due handlingar that a registrar approves (all or some); nothing is deleted before."""

    __tablename__ = "disposal_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default=DecisionStatus.PROPOSED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: proposed by the gallring flow
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    executed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_disposal_decisions_status", "status"),)


class DisposalItem(Base):
    """One stored document version on a decision, with the rule that made it due and what happened to its object."""

    __tablename__ = "disposal_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("disposal_decisions.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    document_type: Mapped[str] = mapped_column(String(80))
    rule: Mapped[str] = mapped_column(String(40))  # "gallras efter 5 år", as the plan said when the list was made
    years: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default=ItemStatus.PROPOSED)
    # Until when the store keeps the object under lock (object lock / retention): the item waits until then.
    locked_until: Mapped[datetime | None]
    disposed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("decision_id", "document_id", name="uq_disposal_items_decision_document"),
        Index("ix_disposal_items_document", "document_id"),
    )
