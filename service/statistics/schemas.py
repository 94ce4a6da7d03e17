"""The statistics as the API returns them and the page and the exports show them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class StageYearCount(BaseModel):
    """Partnerships submitted in a year that are now in a stage."""

    year: int
    stage: str
    label: str
    count: int


class YearCount(BaseModel):
    """A count for one year."""

    year: int
    count: int


class FundingYear(BaseModel):
    """Funding decided (agreements entering into force) and paid (instalments by the payment schedule) in a year."""

    year: int
    decided_sek: int
    decided_agreements: int
    paid_sek: int
    paid_instalments: int


class Duration(BaseModel):
    """Working days spent: how many stays or reviews were measured, their mean and median."""

    key: str = Field(description="Stage (stage_durations) or the stage a review was requested from (review_durations); 'all' for every review")
    label: str
    count: int
    mean_working_days: float | None
    median_working_days: float | None


class OverdueKind(BaseModel):
    """Overdue deadlines of one kind."""

    kind: str
    label: str
    count: int


class Statistics(BaseModel):
    """Partnership statistics for one department or the whole municipality, optionally one year."""

    department_id: int | None = Field(description="None: the whole municipality")
    scope_label: str
    year: int | None
    generated_at: datetime
    years: list[int]
    partnerships: list[StageYearCount] = Field(description="Per year of submission and current stage (only non-zero cells)")
    partnerships_per_year: list[YearCount]
    partnerships_total: int
    funding: list[FundingYear]
    funding_decided_total_sek: int
    funding_paid_total_sek: int
    stage_durations: list[Duration] = Field(description="Working days from entering a stage to leaving it (stays that ended)")
    review_durations: list[Duration] = Field(description="Working days from a review request to its decision")
    overdue_deadlines: list[OverdueKind]
    overdue_deadlines_total: int
    overdue_reviews: int
    overdue_cases: int
    organisations: int = Field(description="Distinct organisations with a partnership in the selection")
    organisations_per_year: list[YearCount]
