"""Gallring API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.schemas import Id


class DueOut(BaseModel):
    """A document version whose retention period has passed."""

    document_id: int
    case_id: int
    diarienummer: str | None
    filename: str
    document_type: str
    rule: str = Field(description='The plan\'s rule, e.g. "gallras efter 5 år"')
    closed_at: datetime
    due_at: datetime
    listed_in: int | None = Field(description="The open gallring decision it is already on")


class ItemOut(BaseModel):
    """One handling on a gallring decision and what became of it."""

    id: int
    document_id: int
    case_id: int
    document_type: str
    rule: str
    closed_at: datetime
    due_at: datetime
    status: str = Field(description="proposed, approved, excluded, waiting (under lock) or disposed")
    state: str = Field(description='In Swedish, e.g. "väntar: under lås till 2036-12-06"')
    locked_until: datetime | None
    disposed_at: datetime | None


class DecisionOut(BaseModel):
    """A gallring decision: the list, who approved it and when, and its items."""

    id: int
    status: str = Field(description="proposed, approved (being executed) or executed")
    created_at: datetime
    created_by_id: int | None
    approved_by_id: int | None
    approved_at: datetime | None
    executed_at: datetime | None
    items: list[ItemOut]


class Approval(BaseModel):
    """Which items of the list to approve; left out: all of them."""

    model_config = ConfigDict(extra="forbid")

    item_ids: list[Id] | None = Field(default=None, max_length=10_000)
