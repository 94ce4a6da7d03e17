"""Dialogue schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from service.dialogue.checklist import Answer
from service.schemas import LongText, NoControlChars, ORMModel, ShortText


class Participant(BaseModel):
    """Someone at the meeting."""

    name: ShortText
    organisation: Annotated[str, Field(max_length=200), NoControlChars] = ""
    role: Annotated[str, Field(max_length=200), NoControlChars] = ""


class MeetingIn(BaseModel):
    """Record a dialogue meeting."""

    held_on: date
    place: Annotated[str, Field(max_length=200), NoControlChars] = ""
    participants: Annotated[list[Participant], Field(min_length=1, max_length=100)]
    notes: LongText = ""
    next_steps: LongText = ""
    recorder: Annotated[str, Field(max_length=200), NoControlChars] | None = None  # protokollförare
    adjuster: Annotated[str, Field(max_length=200), NoControlChars] | None = None  # justerare


class MeetingOut(ORMModel):
    """A recorded meeting."""

    id: int
    case_id: int
    held_on: date
    place: str
    participants: list[Participant]
    notes: str
    next_steps: str
    recorder: str | None = None
    adjuster: str | None = None
    created_at: datetime


class ItemAnswer(BaseModel):
    """One checklist answer."""

    answer: Answer
    comment: Annotated[str, Field(max_length=5000), NoControlChars] = ""


class AssessmentIn(BaseModel):
    """The whole checklist (unknown keys are refused)."""

    items: dict[str, ItemAnswer]
    state_aid_other_basis: Annotated[str, Field(max_length=5000), NoControlChars] | None = None


class ChecklistItemOut(BaseModel):
    """A checklist question with its answer."""

    key: str
    question: str
    mandatory: bool
    answer: Answer | None
    comment: str


class AssessmentOut(BaseModel):
    """The checklist with answers and what is missing."""

    items: list[ChecklistItemOut]
    state_aid_other_basis: str | None
    complete: bool
    missing: list[dict[str, str]]
    version: int = Field(description="0 innan den sparats första gången / 0 before the first save")


class DeMinimisOut(BaseModel):
    """The de minimis computation."""

    window_start: date
    window_end: date
    sek_per_eur: float
    ceiling_eur: int
    total_sek: int
    total_eur: float
    passes: bool
    lines: list[dict]
