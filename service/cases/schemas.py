"""Case request and response schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from service.cases.stages import Stage
from service.schemas import Id, LongText, NoControlChars, ORMModel, PlanDate, Sek, ShortText, refuse_null


class _Period(BaseModel):
    @model_validator(mode="after")
    def _period_order(self):  # noqa: ANN202
        start, end = getattr(self, "period_start", None), getattr(self, "period_end", None)
        if start and end and end < start:
            raise ValueError("period_end måste vara efter period_start / period_end must not be before period_start")
        return self


class CaseCreate(_Period):
    """A new draft proposal from an organisation."""

    title: ShortText
    department_id: Id
    need: LongText = ""
    target_group: LongText = ""
    planned_activities: LongText = ""
    own_contribution_sek: Sek = 0
    own_contribution_in_kind: LongText = ""
    volunteer_hours: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    requested_amount_sek: Sek = 0
    period_start: PlanDate | None = None
    period_end: PlanDate | None = None


class CasePatch(_Period):
    """Change case content (only the fields given)."""

    title: ShortText | None = None
    need: LongText | None = None
    target_group: LongText | None = None
    planned_activities: LongText | None = None
    own_contribution_sek: Sek | None = None
    own_contribution_in_kind: LongText | None = None
    volunteer_hours: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    requested_amount_sek: Sek | None = None
    period_start: PlanDate | None = None
    period_end: PlanDate | None = None

    _not_null = refuse_null("title", "need", "target_group", "planned_activities", "own_contribution_sek",
                            "own_contribution_in_kind", "volunteer_hours", "requested_amount_sek")


class Ref(ORMModel):
    """A linked entity, by id and name."""

    id: int
    name: str


class DepartmentRef(ORMModel):
    """The case's department."""

    id: int
    name: str
    diarie_prefix: str


class OrganisationRef(ORMModel):
    """The case's organisation."""

    id: int
    name: str
    orgnr: str


class OfficerRef(ORMModel):
    """The assigned officer."""

    id: int
    full_name: str
    email: str


class CaseOut(ORMModel):
    """A case as shown to its readers."""

    id: int
    diarienummer: str | None
    title: str
    stage: Stage
    organisation: OrganisationRef
    department: DepartmentRef
    officer: OfficerRef | None
    need: str
    target_group: str
    planned_activities: str
    own_contribution_sek: int
    own_contribution_in_kind: str
    volunteer_hours: int
    requested_amount_sek: int
    period_start: date | None
    period_end: date | None
    open_for_changes: bool
    suspended: bool
    terminated: bool
    close_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    stage_entered_at: datetime


class CaseSummary(ORMModel):
    """A case in a list."""

    id: int
    diarienummer: str | None
    title: str
    stage: Stage
    organisation: OrganisationRef
    department: DepartmentRef
    officer: OfficerRef | None
    requested_amount_sek: int
    open_for_changes: bool
    version: int
    created_at: datetime
    updated_at: datetime
    next_deadline_at: datetime | None = Field(None, description="Nästa öppna eller missade tidsfrist som läsaren ser")
    overdue: bool = Field(False, description="Försenat (service.dashboard.overdue)")


class CompletionRequestIn(BaseModel):
    """What the officer asks the organisation to complete."""

    message: Annotated[str, Field(max_length=5000), NoControlChars]


class WithdrawIn(BaseModel):
    """Why the organisation withdraws."""

    reason: Annotated[str, Field(max_length=5000), NoControlChars] = ""


class AssignIn(BaseModel):
    """Assign a handläggare."""

    officer_id: Id


class TerminateIn(BaseModel):
    """Terminate a partnership in follow-up (approver, with reason)."""

    reason: Annotated[str, Field(min_length=3, max_length=5000), NoControlChars]


class StageChangeOut(ORMModel):
    """One entry of the stage history."""

    from_stage: Stage | None
    to_stage: Stage
    actor_id: int | None
    review_id: int | None
    reason: str | None
    at: datetime


__all__ = ["CaseCreate", "CasePatch", "CaseOut", "CaseSummary", "Ref", "datetime"]
