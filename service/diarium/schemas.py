"""Diary entry API shapes."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from service.diarium.models import Direction


class DiaryEntryOut(BaseModel):
    """One diary entry as the API shows it."""

    id: int
    case_id: int
    reference: str = Field(description="`<diarienummer>-<löpnummer>`, e.g. `SOC 2026/0003-4` (`-<löpnummer>` before submission)")
    number: int
    entry_date: date
    direction: Direction
    counterpart: str
    description: str
    document_type: str
    confidential: bool
    osl_reference: str | None
    document_id: int | None
    message_id: int | None
    review_id: int | None
    version: int
    disposed_at: datetime | None = Field(default=None, description="When the handling was gallrad (the entry stays)")
    disposal_decision_id: int | None = Field(default=None, description="The gallring decision that disposed of it")


class DiaryEntryPatch(BaseModel):
    """A registrar's correction; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, min_length=1, max_length=300)
    document_type: str | None = Field(default=None, min_length=1, max_length=80)
    counterpart: str | None = Field(default=None, max_length=200)
    confidential: bool | None = None
    osl_reference: str | None = Field(default=None, max_length=120)
