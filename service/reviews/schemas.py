"""Review schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from service.cases.stages import Stage
from service.reviews.models import Decision, ReviewStatus
from service.schemas import Id, NoControlChars, ORMModel


class ReviewRequestIn(BaseModel):
    """An officer asks for the next stage."""

    to_stage: Stage | None = Field(default=None, description="Nästa steg; utelämnas för nästa steg i ordningen")
    approver_id: Id | None = None
    comment: Annotated[str, Field(max_length=5000), NoControlChars] = ""
    comment_internal: bool = Field(default=False, description="Kommentaren visas inte för organisationen / not shown to the organisation")


class ReassignIn(BaseModel):
    """Give a pending review to another approver; null leaves it to any approver who may decide it."""

    approver_id: Id | None


class DecisionIn(BaseModel):
    """An approver decides."""

    decision: Decision
    motivation: Annotated[str, Field(max_length=20_000), NoControlChars] = ""


class ReviewOut(ORMModel):
    """A review as shown."""

    id: int
    case_id: int
    from_stage: Stage
    to_stage: Stage
    requested_by_id: int
    requested_at: datetime
    comment: str
    comment_internal: bool
    approver_id: int | None
    due_at: datetime | None
    status: ReviewStatus
    motivation: str | None
    decided_by_id: int | None
    decided_at: datetime | None
