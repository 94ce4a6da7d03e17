"""Agreement terms: a structured, validated IOP-avtal."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from service.agreements.goals import GoalDraft, GoalItem, located_errors as _errors, periods_outside
from service.agreements.models import Party
from service.organisations.schemas import OrgNr
from service.schemas import Id, LongText, NoControlChars, ORMModel, PlanDate, Sek, ShortText

PRINCIPLES = (
    "Parterna ansluter sig till principerna i den nationella överenskommelsen mellan regeringen, idéburna "
    "organisationer och Sveriges Kommuner och Regioner: självständighet och oberoende, dialog, kvalitet, "
    "långsiktighet, öppenhet och insyn samt mångfald."
)
NonEmpty = Annotated[str, Field(min_length=1, max_length=20_000), NoControlChars]
CHANGES_CLAUSE = "Ändringar och tillägg till denna överenskommelse ska göras skriftligen och undertecknas av båda parter."
TERMINATION_CLAUSE = ("Part får häva överenskommelsen om motparten väsentligen bryter mot den. Uppsägning sker skriftligen med "
                      "den uppsägningstid som anges ovan.")
DISPUTES_CLAUSE = "Tvist ska i första hand lösas genom dialog mellan parterna, i andra hand av allmän domstol."
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
    """Every term the SPEC requires of an IOP agreement: the one rule of complete terms (drafts: AgreementDraft).

    The period and the funding come before the lists that are checked against them, so a payment outside the period
    or a sum that does not match is reported with everything else that is missing, not only after it is fixed.
    """

    public_party: PartyTerms
    organisation_party: PartyTerms
    background: NonEmpty
    purpose: NonEmpty
    goals: Annotated[list[GoalItem], Field(min_length=1, max_length=50)]
    target_group: NonEmpty
    activities: NonEmpty
    period_start: PlanDate
    period_end: PlanDate
    funding_amount_sek: Sek
    contributions: Annotated[list[Contribution], Field(min_length=2, max_length=100)]
    instalments: Annotated[list[Instalment], Field(min_length=1, max_length=120)]
    extension_terms: NonEmpty
    notice_period_months: Annotated[int, Field(ge=0, le=36)]
    governance: NonEmpty
    followup_schedule: Annotated[list[ReportDue], Field(min_length=1, max_length=60)]
    principles: NonEmpty = PRINCIPLES
    changes_clause: NonEmpty = CHANGES_CLAUSE
    termination_clause: NonEmpty = TERMINATION_CLAUSE
    disputes_clause: NonEmpty = DISPUTES_CLAUSE

    @field_validator("period_end")
    @classmethod
    def _period_order(cls, v: date, info: ValidationInfo) -> date:
        """The period cannot end before it starts."""
        start = info.data.get("period_start")
        if start and v < start:
            raise ValueError(f"Avtalet kan inte sluta före startdatumet {start.isoformat()} / must not be before period_start")
        return v

    @field_validator("contributions")
    @classmethod
    def _both_contribute(cls, v: list[Contribution]) -> list[Contribution]:
        """An IOP is a partnership: both parties contribute."""
        if {c.party for c in v} != {Party.PUBLIC, Party.ORGANISATION}:
            raise ValueError("Båda parter måste bidra, med pengar eller i annan form / both parties must contribute")
        return v

    @field_validator("instalments")
    @classmethod
    def _instalments(cls, v: list[Instalment], info: ValidationInfo) -> list[Instalment]:
        """The instalments add up to the funding amount and fall within the agreement's period."""
        problems: list[tuple[tuple[str | int, ...], str, object]] = []
        funding = info.data.get("funding_amount_sek")
        total = sum(i.amount_sek for i in v)
        if funding is not None and total != funding:
            problems.append(((), f"Utbetalningarna summerar till {total} kr men bidraget totalt är {funding} kr "
                                 f"/ instalments sum to {total} SEK, funding is {funding} SEK", total))
        start, end = info.data.get("period_start"), info.data.get("period_end")
        if start and end:
            for n, inst in enumerate(v):
                if not start <= inst.due_on <= end:
                    problems.append(((n, "due_on"), f"Datumet {inst.due_on.isoformat()} ligger utanför avtalsperioden {start.isoformat()} – "
                                                    f"{end.isoformat()} / instalment outside the agreement period", inst.due_on.isoformat()))
        if problems:
            raise _errors(cls.__name__, problems)
        return v

    @field_validator("followup_schedule")
    @classmethod
    def _followup(cls, v: list[ReportDue], info: ValidationInfo) -> list[ReportDue]:
        """The schedule ends with a final report; reports fall after the period starts and at most a year after it ends."""
        problems: list[tuple[tuple[str | int, ...], str, object]] = []
        if not any(r.is_final for r in v):
            problems.append(((), "En av rapporterna måste vara slutrapport / a final report is required", len(v)))
        start, end = info.data.get("period_start"), info.data.get("period_end")
        if start and end:
            last_report = _add_years(end, REPORT_GRACE_YEARS)
            for n, report in enumerate(v):
                if not start < report.due_on <= last_report:
                    problems.append(((n, "due_on"), f"Datumet {report.due_on.isoformat()} måste ligga efter periodens start {start.isoformat()} "
                                                    f"och senast {last_report.isoformat()} / report due date outside the agreement period "
                                                    f"(+{REPORT_GRACE_YEARS} year)", report.due_on.isoformat()))
        if problems:
            raise _errors(cls.__name__, problems)
        return v

    @model_validator(mode="after")
    def _indicator_periods(self) -> AgreementTerms:
        """An indicator is reported in reports of the follow-up schedule."""
        problems = periods_outside(self.goals, {r.due_on for r in self.followup_schedule})
        if problems:
            raise _errors(type(self).__name__, problems)
        return self


def _blank_is_absent(data: object) -> object:
    """In a draft an empty text is a field not filled in yet."""
    if isinstance(data, dict):
        return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}
    return data


class DraftModel(BaseModel):
    """A part of a draft: every field may still be missing; what is filled in has the complete terms' format."""

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: object) -> object:
        return _blank_is_absent(data)


class PartyDraft(DraftModel):
    """A party as far as it is filled in."""

    name: ShortText | None = None
    orgnr: OrgNr | None = None
    signatory_name: ShortText | None = None
    signatory_role: ShortText | None = None
    second_signatory: SignatoryTerms | None = None


class ContributionDraft(DraftModel):
    """A contribution as far as it is filled in."""

    party: Party | None = None
    kind: ContributionKind | None = None
    description: ShortText | None = None
    amount_sek: Sek | None = None
    extent: Annotated[str, Field(max_length=200), NoControlChars] | None = None


class InstalmentDraft(DraftModel):
    """A payment as far as it is filled in."""

    due_on: PlanDate | None = None
    amount_sek: Annotated[int, Field(gt=0, le=10_000_000_000)] | None = None


class ReportDueDraft(DraftModel):
    """A scheduled report as far as it is filled in."""

    due_on: PlanDate | None = None
    description: ShortText | None = None
    is_final: bool | None = None


DraftText = Annotated[str, Field(max_length=20_000), NoControlChars]


class AgreementDraft(DraftModel):
    """Agreement terms saved half-filled: each given field in the format AgreementTerms asks for, nothing required.

    As a PATCH body it is a JSON merge patch (RFC 7396): a field left out keeps its stored value, null empties it.
    Whether the terms are complete is AgreementTerms' rule, reported by agreements.completeness.
    """

    public_party: PartyDraft | None = None
    organisation_party: PartyDraft | None = None
    background: DraftText | None = None
    purpose: DraftText | None = None
    goals: Annotated[list[GoalDraft], Field(max_length=50)] | None = None
    target_group: DraftText | None = None
    activities: DraftText | None = None
    period_start: PlanDate | None = None
    period_end: PlanDate | None = None
    funding_amount_sek: Sek | None = None
    contributions: Annotated[list[ContributionDraft], Field(max_length=100)] | None = None
    instalments: Annotated[list[InstalmentDraft], Field(max_length=120)] | None = None
    extension_terms: DraftText | None = None
    notice_period_months: Annotated[int, Field(ge=0, le=36)] | None = None
    governance: DraftText | None = None
    followup_schedule: Annotated[list[ReportDueDraft], Field(max_length=60)] | None = None
    principles: DraftText | None = None
    changes_clause: DraftText | None = None
    termination_clause: DraftText | None = None
    disputes_clause: DraftText | None = None


# The standard clauses a new agreement starts with (the parties may write their own).
STANDARD_CLAUSES = {"principles": PRINCIPLES, "changes_clause": CHANGES_CLAUSE, "termination_clause": TERMINATION_CLAUSE,
                    "disputes_clause": DISPUTES_CLAUSE}


class MissingItem(BaseModel):
    """What keeps the terms from being complete: the field (dotted path), its Swedish label and what is wrong."""

    field: str
    label: str
    section: str
    message: str


class SectionProgress(BaseModel):
    """One section of the terms and whether it is complete."""

    key: str
    title: str
    complete: bool
    missing: int


class AgreementOut(ORMModel):
    """Stored terms (a draft or complete), with what is still missing and each section's progress (completeness.report)."""

    case_id: int
    terms: dict
    funding_amount_sek: int
    period_start: date | None
    period_end: date | None
    version: int

    complete: bool = Field(description="Whether the terms are complete: the agreement document can be generated from them")
    missing: list[MissingItem] = Field(description="Every item that keeps the terms from being complete (empty when they are)")
    sections: list[SectionProgress] = Field(description="The agreement form's sections, each complete or with its number of missing items")


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
