"""Timeline response schema."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class ItemType(StrEnum):
    """What a timeline entry records."""

    STAGE_CHANGED = "stage_changed"
    REVIEW_REQUESTED = "review_requested"
    REVIEW_DECIDED = "review_decided"
    MEETING_RECORDED = "meeting_recorded"
    DOCUMENT_STORED = "document_stored"
    MESSAGE_POSTED = "message_posted"
    SIGNATURE_RECORDED = "signature_recorded"
    FOLLOWUP_SCHEDULED = "followup_scheduled"
    FOLLOWUP_SUBMITTED = "followup_submitted"
    FOLLOWUP_ASSESSED = "followup_assessed"
    DEADLINE = "deadline"
    CASE_EVENT = "case_event"


class TimelineItem(BaseModel):
    """One entry: when, what (Swedish title), details and the ids of the records behind it."""

    at: datetime
    type: ItemType
    title: str
    detail: str = ""
    internal: bool = Field(default=False, description="Syns inte för organisationen / hidden from the organisation")
    actor_id: int | None = None
    action: str | None = Field(default=None, description="Den granskade händelsens kod i granskningsloggen / the audited action")
    refs: dict[str, int] = Field(default_factory=dict)
