"""Agreement terms: a structured, validated IOP-avtal."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from service.agreements.models import Party
from service.organisations.schemas import OrgNr
from service.schemas import Id, LongText, NoControlChars, ORMModel, PlanDate, Sek, ShortText

PRINCIPLES = (
    "Parterna ansluter sig till principerna i den nationella överenskommelsen mellan regeringen, idéburna "
    "organisationer och Sveriges Kommuner och Regioner: självständighet och oberoende, dialog, kvalitet, "
    "långsiktighet, öppenhet och insyn samt mångfald."
)
NonEmpty = Annotated[str, Field(min_length=1, max_length=20_000), NoControlChars]
# A final report is due after the period ends (SPEC: by default within 60 days); later than a year is a typing error.
REPORT_GRACE_YEARS = 1


def _add_years(day: date, years: int) -> date:
    return day.replace(year=day.year + years) if not (day.month == 2 and day.day == 29) else date(day.year + years, 2, 28)


class ContributionKind(StrEnum):
    """Money or in kind."""

    MONEY = "money"
    IN_KIND = "in_kind"


class SignatoryTerms(BaseModel):
    """A further firmatecknare of a party."""

    name: ShortText
    role: ShortText


class PartyTerms(BaseModel):
    """A party and its signatories: one firmatecknare, or two signing jointly (stored terms with one stay valid)."""

    name: ShortText
    orgnr: OrgNr
    signatory_name: ShortText
    signatory_role: ShortText
    second_signatory: SignatoryTerms | None = None


class Contribution(BaseModel):
    """What one party brings."""

    party: Party
    kind: ContributionKind
    description: ShortText
    amount_sek: Sek | None = None
    extent: Annotated[str, Field(max_length=200), NoControlChars] = ""


class Instalment(BaseModel):
    """One payment."""

    due_on: PlanDate
    amount_sek: Annotated[int, Field(gt=0, le=10_000_000_000)]


class ReportDue(BaseModel):
    """One scheduled follow-up report."""

    due_on: PlanDate
    description: ShortText
    is_final: bool = False


class AgreementTerms(BaseModel):
    """Every term the SPEC requires of an IOP agreement."""

    public_party: PartyTerms
    organisation_party: PartyTerms
    background: NonEmpty
    purpose: NonEmpty
    goals: Annotated[list[ShortText], Field(min_length=1, max_length=50)]
    target_group: NonEmpty
    activities: NonEmpty
    contributions: Annotated[list[Contribution], Field(min_length=2, max_length=100)]
    funding_amount_sek: Sek
    instalments: Annotated[list[Instalment], Field(min_length=1, max_length=120)]
    period_start: PlanDate
    period_end: PlanDate
    extension_terms: NonEmpty
    notice_period_months: Annotated[int, Field(ge=0, le=36)]
    governance: NonEmpty
    followup_schedule: Annotated[list[ReportDue], Field(min_length=1, max_length=60)]
    principles: NonEmpty = PRINCIPLES
    changes_clause: NonEmpty = "Ändringar och tillägg till denna överenskommelse ska göras skriftligen och undertecknas av båda parter."
    termination_clause: NonEmpty = (
        "Part får häva överenskommelsen om motparten väsentligen bryter mot den. Uppsägning sker skriftligen med "
        "den uppsägningstid som anges ovan."
    )
    disputes_clause: NonEmpty = "Tvist ska i första hand lösas genom dialog mellan parterna, i andra hand av allmän domstol."

    @field_validator("instalments")
    @classmethod
    def _instalments_sum(cls, v: list[Instalment], info: ValidationInfo) -> list[Instalment]:
        """Instalments must add up to the funding amount."""
        funding = info.data.get("funding_amount_sek")
        total = sum(i.amount_sek for i in v)
        if funding is not None and total != funding:
            raise ValueError(
                f"utbetalningarna summerar till {total} kr men finansieringen är {funding} kr / "
                f"instalments sum to {total} SEK, funding is {funding} SEK"
            )
        return v

    @field_validator("period_end")
    @classmethod
    def _period_order(cls, v: date, info: ValidationInfo) -> date:
        """The period cannot end before it starts."""
        start = info.data.get("period_start")
        if start and v < start:
            raise ValueError("period_end måste vara efter period_start / must not be before period_start")
        return v

    @field_validator("contributions")
    @classmethod
    def _both_contribute(cls, v: list[Contribution]) -> list[Contribution]:
        """An IOP is a partnership: both parties contribute."""
        if {c.party for c in v} != {Party.PUBLIC, Party.ORGANISATION}:
            raise ValueError("båda parter måste bidra / both parties must contribute")
        return v

    @model_validator(mode="after")
    def _dates_within_period(self) -> AgreementTerms:
        """Payments fall within the agreement's period; reports after it starts and at most a year after it ends."""
        errors = []
        for n, inst in enumerate(self.instalments):
            if not self.period_start <= inst.due_on <= self.period_end:
                errors.append(f"instalments.{n}.due_on {inst.due_on} ligger utanför avtalsperioden {self.period_start} – {self.period_end} "
                              f"/ instalment outside the agreement period")
        last_report = _add_years(self.period_end, REPORT_GRACE_YEARS)
        for n, report in enumerate(self.followup_schedule):
            if not self.period_start < report.due_on <= last_report:
                errors.append(f"followup_schedule.{n}.due_on {report.due_on} måste ligga efter periodens start och senast {last_report} "
                              f"/ report due date outside the agreement period (+{REPORT_GRACE_YEARS} year)")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @field_validator("followup_schedule")
    @classmethod
    def _final_report(cls, v: list[ReportDue]) -> list[ReportDue]:
        """The schedule ends with a final report."""
        if not any(r.is_final for r in v):
            raise ValueError("en slutrapport krävs / a final report is required")
        return v


class AgreementOut(ORMModel):
    """Stored terms."""

    case_id: int
    terms: dict
    funding_amount_sek: int
    period_start: date | None
    period_end: date | None
    version: int


class SignatureMethod(StrEnum):
    """How the party signed."""

    SIGNED_COPY = "signed_copy"
    E_SIGNATURE = "e_signature"


class SignatureIn(BaseModel):
    """Record a party's signature."""

    party: Party
    name: ShortText
    role: ShortText
    signed_on: PlanDate
    method: SignatureMethod = SignatureMethod.SIGNED_COPY
    document_id: Id | None = None


class SignatureOut(ORMModel):
    """A recorded signature."""

    id: int
    party: Party
    name: str
    role: str
    signed_on: date
    method: str
    document_id: int | None


__all__ = ["AgreementTerms", "LongText"]
