"""Follow-up report request and response schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from service.followup.models import Assessment
from service.schemas import LongText, NoControlChars, ORMModel, PlanDate, Sek


class ReportScheduleIn(BaseModel):
    """A report the organisation is to submit."""

    period_start: PlanDate
    period_end: PlanDate
    due_on: PlanDate
    is_final: bool = False

    @model_validator(mode="after")
    def _order(self) -> ReportScheduleIn:
        if self.period_end < self.period_start:
            raise ValueError("period_end måste vara efter period_start / period_end before period_start")
        if self.due_on <= self.period_end:
            raise ValueError("due_on måste vara efter rapportperiodens slut / a report is due after the period it covers")
        return self


class ReportContent(BaseModel):
    """What the organisation reports."""

    activities_done: Annotated[str, Field(min_length=1, max_length=20_000), NoControlChars]
    participants_reached: Annotated[int, Field(ge=0, le=10_000_000)]
    money_used_sek: Sek
    deviations: LongText = ""


class AssessmentIn(BaseModel):
    """The officer's assessment."""

    assessment: Assessment
    comment: LongText = ""


class ReportOut(ORMModel):
    """A follow-up report."""

    id: int
    case_id: int
    period_start: date
    period_end: date
    due_on: date
    is_final: bool
    content: dict | None
    submitted_at: datetime | None
    assessment: Assessment | None
    assessment_comment: str | None
    assessed_at: datetime | None
