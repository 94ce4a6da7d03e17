"""Follow-up report request and response schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from service.agreements.goals import IndicatorUnit, Value
from service.followup.models import Assessment, Rating
from service.schemas import Id, LongText, NoControlChars, ORMModel, PlanDate, Sek


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


class IndicatorValueIn(BaseModel):
    """The value an indicator achieved in the report's period (of the indicator's unit) and the organisation's comment."""

    indicator_id: Id
    value: Value
    comment: LongText = ""


class IndicatorRatingIn(BaseModel):
    """The officer's rating of one indicator of a report."""

    indicator_id: Id
    rating: Rating
    comment: LongText = ""


class IndicatorResultOut(ORMModel):
    """An indicator's value in a report, and its rating."""

    indicator_id: int
    value: float
    comment: str
    rating: Rating | None
    rating_comment: str | None


class ReportContent(BaseModel):
    """What the organisation reports: the indicators due in the report's period each with its achieved value."""

    activities_done: Annotated[str, Field(min_length=1, max_length=20_000), NoControlChars]
    participants_reached: Annotated[int, Field(ge=0, le=10_000_000)]
    money_used_sek: Sek
    deviations: LongText = ""
    indicator_values: Annotated[list[IndicatorValueIn], Field(max_length=1_000)] = Field(default_factory=list)


class AssessmentIn(BaseModel):
    """The officer's assessment."""

    assessment: Assessment
    comment: LongText = ""
    indicators: Annotated[list[IndicatorRatingIn], Field(max_length=1_000)] = Field(default_factory=list)


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
    results: list[IndicatorResultOut]


class PointOut(BaseModel):
    """One report's value of an indicator (achieved None: not reported yet)."""

    report_id: int
    period_start: date
    period_end: date
    due_on: date
    achieved: float | None
    comment: str
    rating: Rating | None
    rating_comment: str | None


class SeriesOut(BaseModel):
    """An indicator of the agreement over the reports it is given in: target vs achieved."""

    indicator_id: int
    goal: str
    name: str
    unit: IndicatorUnit
    baseline: float | None
    target: float
    how_measured: str
    points: list[PointOut]


class MoneyPointOut(BaseModel):
    """Money planned (instalments due) and reported used, cumulative, at a report's period end."""

    on: date
    planned_sek: int
    used_sek: int | None


class IndicatorsOut(BaseModel):
    """The case's indicators over time, and money used vs the instalments planned."""

    indicators: list[SeriesOut]
    money: list[MoneyPointOut]
