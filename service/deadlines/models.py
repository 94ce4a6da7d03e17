"""Deadlines, reminders (exactly once by dedupe key) and case suspensions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class DeadlineKind(StrEnum):
    """What a deadline is for."""

    TRIAGE = "triage"
    REVIEW = "review"
    DIALOGUE = "dialogue"
    AGREEMENT_SIGNATURE = "agreement_signature"
    FOLLOWUP_REPORT = "followup_report"
    AGREEMENT_EXPIRY = "agreement_expiry"
    PAYMENT_INSTALMENT = "payment_instalment"


class DeadlineStatus(StrEnum):
    """Lifecycle of a deadline."""

    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"


# A deadline that can still be moved by an extension (met and cancelled ones are history).
EXTENDABLE = frozenset({DeadlineStatus.OPEN, DeadlineStatus.SUSPENDED, DeadlineStatus.MISSED})


class Deadline(Base):
    """A due date on a case, with its reminder offsets and escalation rule."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[DeadlineKind] = mapped_column(String(30))
    due_at: Mapped[datetime]
    original_due_at: Mapped[datetime]
    status: Mapped[DeadlineStatus] = mapped_column(String(20), default=DeadlineStatus.OPEN)
    # e.g. [{"working_days": -2}, {"working_days": 0}] or [{"days": -7}]
    reminder_offsets: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    # who is told when it is missed: "approvers", "manager", "officer", "officer+approver"
    escalation_target: Mapped[str | None] = mapped_column(String(40))
    escalation_delay: Mapped[dict[str, int] | None] = mapped_column(JSON)
    escalated_at: Mapped[datetime | None]
    # Precomputed so a sweep touches only what is due, whatever the number of cases.
    next_reminder_at: Mapped[datetime | None]
    escalate_at: Mapped[datetime | None]
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    followup_report_id: Mapped[int | None] = mapped_column(ForeignKey("followup_reports.id"))
    label: Mapped[str] = mapped_column(String(200), default="")
    extension_reason: Mapped[str | None] = mapped_column(Text)
    met_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_deadlines_status_due", "status", "due_at"),
        Index("ix_deadlines_status_next_reminder", "status", "next_reminder_at"),
        # escalated_at IS NULL is part of the key: already escalated (historical) missed deadlines are never scanned.
        Index("ix_deadlines_escalation_pending", "status", "escalated_at", "escalate_at"),
    )


class Reminder(Base):
    """One reminder to one recipient; the unique dedupe key makes sending exactly-once."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(20), default="email")
    offset_key: Mapped[str] = mapped_column(String(40))
    scheduled_for: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    skipped_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    # Random per row: the send task's cache key, so a database reset never matches an old result.
    token: Mapped[str] = mapped_column(String(36))
    message_id: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Retrying runs from the first failure; it stops (a refused recipient, or failures for RETRY_WINDOW) at gave_up_at,
    # after which an admin may send it again.
    first_failed_at: Mapped[datetime | None]
    gave_up_at: Mapped[datetime | None]
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)

    # Unsent and not skipped, by time: skipped reminders (closed cases, met deadlines) pile up and are never scanned.
    __table_args__ = (Index("ix_reminders_unsent", "sent_at", "skipped_at", "scheduled_for"),)


class ReminderDelivery(Base):
    """The sent-log: one row committed the moment the SMTP server accepted a reminder, folded into it after the batch."""

    __tablename__ = "reminder_deliveries"

    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(300))
    accepted_at: Mapped[datetime]


class Suspension(Base):
    """A period when the case's clock stood still (e.g. waiting for the organisation)."""

    __tablename__ = "case_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    working_days: Mapped[int | None] = mapped_column(Integer)
