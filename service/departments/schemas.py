"""Department request and response schemas: the deadline policy."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from service.deadlines.models import DeadlineKind


class Offset(BaseModel):
    """A span in calendar days or Swedish working days (exactly one of them)."""

    model_config = ConfigDict(extra="forbid")
    days: int | None = Field(default=None, ge=-365, le=730)
    working_days: int | None = Field(default=None, ge=-60, le=120)

    @model_validator(mode="after")
    def _one(self) -> Offset:
        if (self.days is None) == (self.working_days is None):
            raise ValueError("ange antingen days eller working_days / give either days or working_days")
        return self

    @property
    def value(self) -> int:
        """The signed number of days, whichever unit."""
        return self.days if self.days is not None else self.working_days  # type: ignore[return-value]

    def dump(self) -> dict[str, int]:
        """As stored in the policy."""
        return self.model_dump(exclude_none=True)


class KindPolicy(BaseModel):
    """Overrides for one deadline kind; a field left out keeps the SPEC's default."""

    model_config = ConfigDict(extra="forbid")
    due: Offset | None = Field(default=None, description="Tid från start till frist (bara för frister som räknas från en händelse)")
    reminders: list[Offset] | None = Field(default=None, max_length=6, description="Påminnelser före (negativt) eller på (0) fristdagen")
    escalation: Literal["officer", "approvers", "manager", "officer+approver"] | None = None
    escalation_delay: Offset | None = None


class DeadlinePolicyIn(BaseModel):
    """A department's deadline overrides per kind and where escalations go."""

    model_config = ConfigDict(extra="forbid")
    kinds: dict[DeadlineKind, KindPolicy] = {}
    escalation_email: EmailStr | None = None


class DeadlinePolicyOut(BaseModel):
    """The effective policy per kind (defaults with the overrides applied) and the overrides themselves."""

    department_id: int
    effective: dict[str, dict[str, Any]]
    overrides: dict[str, dict[str, Any]]
    escalation_email: str | None
