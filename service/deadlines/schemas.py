"""Deadline, suspension and extension payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from service.deadlines.models import DeadlineKind, DeadlineStatus
from service.schemas import NoControlChars, ORMModel, PlanDate


class DeadlineOut(ORMModel):
    """A deadline as shown."""

    id: int
    case_id: int
    kind: DeadlineKind
    label: str
    due_at: datetime
    original_due_at: datetime
    status: DeadlineStatus
    extension_reason: str | None
    escalated_at: datetime | None


class SuspendIn(BaseModel):
    """Why the case's clock stops."""

    reason: Annotated[str, Field(min_length=3, max_length=5000), NoControlChars]


class SuspensionOut(ORMModel):
    """A suspension period."""

    id: int
    case_id: int
    reason: str
    started_at: datetime
    ended_at: datetime | None
    working_days: int | None


class ExtendIn(BaseModel):
    """Move one deadline later: to a date or by working days, with a reason."""

    due_on: PlanDate | None = None
    working_days: Annotated[int, Field(ge=1, le=250)] | None = None
    reason: Annotated[str, Field(min_length=3, max_length=5000), NoControlChars]


class ReminderOut(ORMModel):
    """A reminder that failed: retrying (with backoff) or given up."""

    id: int
    deadline_id: int
    recipient: str
    offset_key: str
    scheduled_for: datetime
    attempts: int
    last_error: str | None
    claimed_until: datetime | None = Field(description="Nästa försök tidigast / next attempt not before")
    gave_up_at: datetime | None
