"""Render contexts for the Swedish document templates in ``templates/``.

Each top-level context names its template in the class variable ``template_name``;
``service.documents.rendering.render`` dumps the model (``model_dump()``, dates stay
``datetime.date``) and hands it to docxtpl. Field names are what the templates use, so a
rename here must be mirrored in ``templates/source/build_templates.py`` (the rendering tests
render every template with ``StrictUndefined`` and fail on any mismatch).

Conventions: amounts are whole SEK (``int`` >= 0, formatted by the ``sek`` filter), dates are
``datetime.date`` (formatted by the ``datum`` filter as ISO 8601, ``2026-11-23``). Free text may
contain anything: it is escaped on rendering and never evaluated as a template. Newlines become
line breaks and blank lines start a new paragraph.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# Stage codes as in service.cases.stages.Stage; labels are in service.labels.STAGES.
StageCode = Literal[
    "draft", "identify_need", "dialogue", "agreement", "follow_up",
    "closed", "rejected", "withdrawn",
]
# Decision codes as in service.reviews.models.Decision, plus "terminate" (förtida avslut).
Outcome = Literal["approve", "reject", "changes_requested", "terminate"]

Text = Annotated[str, StringConstraints(strip_whitespace=True)]
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Amount = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- shared parts


class Authority(_Model):
    """The public body issuing the document (letterhead, footer, contact)."""

    municipality: RequiredText  # "Exempelby kommun"
    department: RequiredText  # "Socialförvaltningen"
    committee: Text | None = None  # nämnd, "Socialnämnden"
    postal_address: Text = ""  # "Box 123, 123 45 Exempelby"
    email: Text | None = None
    phone: Text | None = None
    website: Text | None = None


class CaseRef(_Model):
    """The case the document belongs to."""

    diarienummer: RequiredText  # "SOC 2026/0042"
    title: RequiredText


class Contact(_Model):
    """A person to contact (handläggare)."""

    name: RequiredText
    title: Text | None = None
    email: Text | None = None
    phone: Text | None = None


class Signatory(_Model):
    """Who signs for a party; ``signed_on``/``place`` stay blank lines until known."""

    name: RequiredText
    role: RequiredText  # "Förvaltningschef", "Ordförande"
    signed_on: date | None = None
    place: Text | None = None  # ort


class Party(_Model):
    """A party to the agreement (the public body or the idéburen organisation), signed by one or two firmatecknare."""

    name: RequiredText
    orgnr: RequiredText  # "212000-1234"
    address: Text | None = None
    signatories: list[Signatory] = Field(min_length=1, max_length=2)


class Organisation(_Model):
    """The idéburen organisation a decision/minutes/request concerns."""

    name: RequiredText
    orgnr: RequiredText
    address: Text | None = None
    contact: Contact | None = None


class Contribution(_Model):
    """One row of 'Parternas åtaganden och bidrag'."""

    party: RequiredText  # party name or "Kommunen"/"Föreningen"
    kind: RequiredText  # "Ekonomiskt bidrag", "Ideellt arbete", "Lokaler"
    description: Text = ""
    amount: Amount | None = None  # SEK, when the contribution is money or valued in money
    extent: Text | None = None  # "1 200 timmar per år", "2 dagar per vecka"


class Instalment(_Model):
    """One payment in the payment schedule (utbetalningsplan)."""

    due_date: date
    amount: Amount
    note: Text | None = None  # "Efter godkänd delrapport"


class ReportDue(_Model):
    """One follow-up report in the reporting schedule."""

    due_date: date
    description: RequiredText  # "Delrapport år 1", "Slutrapport"
    period_start: date | None = None
    period_end: date | None = None


class IndicatorLine(_Model):
    """An indicator of a goal as the documents print it (values already written in their unit: "200 st", "45 %")."""

    goal: RequiredText
    name: RequiredText
    unit: RequiredText  # "antal", "procent", "kronor"
    baseline: Text = ""
    target: RequiredText
    how_measured: RequiredText
    periods: Text = ""  # "rapporterna 2028-01-31, 2029-02-28"


class IndicatorResultLine(_Model):
    """An indicator's reported value in a follow-up report and the officer's rating of it."""

    goal: RequiredText
    name: RequiredText
    target: RequiredText
    achieved: RequiredText
    comment: Text = ""
    rating: Text = ""  # "Uppnått", "Delvis uppnått", "Inte uppnått"; empty: not rated yet
    rating_comment: Text = ""


class Participant(_Model):
    """A participant of a meeting (also used for styrgrupp/arbetsgrupp members)."""

    name: RequiredText
    organisation: Text | None = None
    role: Text | None = None


class NextStep(_Model):
    """An agreed action from a dialogue meeting."""

    description: RequiredText
    responsible: Text | None = None
    due_date: date | None = None


class DecisionMaker(_Model):
    """Who decided, and under which delegation."""

    name: RequiredText
    title: RequiredText  # "Förvaltningschef"
    delegation_reference: Text | None = None  # "Socialnämndens delegationsordning, punkt 3.4"
    delegated_limit: Amount | None = None  # the approver's beloppsgräns, SEK


class Court(_Model):
    """Where a laglighetsprövning is sent (förvaltningsrätten)."""

    name: RequiredText  # "Förvaltningsrätten i Göteborg"
    address: Text = ""  # "Box 1531, 401 50 Göteborg"
    email: Text | None = None


class _Document(_Model):
    template_name: ClassVar[str]
    document_title: ClassVar[str]

    authority: Authority
    case: CaseRef
    document_date: date  # the date printed in the letterhead


def _check_period(start: date | None, end: date | None, what: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{what}: slutdatum {end} ligger före startdatum {start}")


# --------------------------------------------------------------------------- documents


class AgreementContext(_Document):
    """Överenskommelse om idéburet offentligt partnerskap (templates/iop_avtal.docx)."""

    template_name: ClassVar[str] = "iop_avtal.docx"
    document_title: ClassVar[str] = "Överenskommelse om idéburet offentligt partnerskap (IOP)"

    public_party: Party
    organisation: Party
    background: RequiredText  # 1 Bakgrund och behovsanalys
    purpose: RequiredText  # 2 Syfte och mål
    goals: list[RequiredText] = Field(default_factory=list)
    indicators: list[IndicatorLine] = Field(default_factory=list)  # 2: how each goal is followed up
    target_group: RequiredText  # 3 Målgrupp
    activities: RequiredText  # 4 Verksamhet och aktiviteter
    contributions: list[Contribution] = Field(min_length=1)  # 5
    funding_amount: Amount  # 6: the public body's total money contribution
    instalments: list[Instalment] = Field(default_factory=list)
    payment_terms: Text | None = None  # conditions for payment, account, etc.
    state_aid_basis: Text | None = None  # "Stöd av mindre betydelse (de minimis) ..."
    period_start: date  # 7
    period_end: date
    extension_terms: Text = ""
    notice_period_months: int = Field(ge=0, le=60)
    steering_group: Text = ""  # 8 Styrning och samverkan
    working_group: Text = ""
    governance_notes: Text | None = None
    reports: list[ReportDue] = Field(default_factory=list)  # 9 Uppföljning och rapportering
    follow_up_notes: Text | None = None
    values_notes: Text | None = None  # 10, added after the six principles (the local överenskommelse's own text)
    # 10: when the organisation joined the municipality's local överenskommelse with the idéburna sektorn
    joined_local_agreement_on: date | None = None
    changes_notes: Text | None = None  # 11, added after the standard clause
    termination_notes: Text | None = None  # 12, added after the standard clauses
    copies: int = Field(default=2, ge=1, le=10)  # "upprättad i två likalydande exemplar"

    @model_validator(mode="after")
    def _consistent(self) -> AgreementContext:
        _check_period(self.period_start, self.period_end, "Avtalsperiod")
        if self.instalments:
            total = sum(i.amount for i in self.instalments)
            if total != self.funding_amount:
                raise ValueError(
                    f"Utbetalningsplanen summerar till {total} kr men finansieringen är "
                    f"{self.funding_amount} kr"
                )
        for report in self.reports:
            _check_period(report.period_start, report.period_end, report.description)
        return self


class DecisionContext(_Document):
    """Beslut (templates/beslut.docx) with motivation and appeal information."""

    template_name: ClassVar[str] = "beslut.docx"
    document_title: ClassVar[str] = "Beslut"

    decision_date: date
    decision_maker: DecisionMaker
    organisation: Organisation
    outcome: Outcome
    motivation: RequiredText  # Beslutsmotivering
    from_stage: StageCode
    to_stage: StageCode
    amount: Amount | None = None  # beviljat/avsett belopp, SEK
    amount_label: RequiredText = "Belopp"  # "Ansökt belopp", "Överenskommen finansiering"
    conditions: list[RequiredText] = Field(default_factory=list)  # villkor för beslutet
    # Laglighetsprövning (13 kap. kommunallagen) is open against final decisions; a decision that only
    # prepares the matter (återremiss, the step into dialogue) cannot be appealed (13 kap. 2 §) and has no appeal page.
    appealable: bool = True
    # Taken under delegation: the appeal period runs from the anslag of the minutes of the nämnd meeting
    # the decision was reported to (13 kap. 5 §, 6 kap. 40 §), not from minutes of the decision itself.
    delegated: bool = True
    appeal_court: Court | None = None
    notice_board_url: Text | None = None  # kommunens digitala anslagstavla
    officer: Contact | None = None

    @model_validator(mode="after")
    def _court_when_appealable(self) -> DecisionContext:
        if self.appealable and self.appeal_court is None:
            raise ValueError("Ett överklagbart beslut behöver förvaltningsrätten (appeal_court)")
        return self


class DialogueMinutesContext(_Document):
    """Protokoll från dialogmöte (templates/dialogmote_protokoll.docx)."""

    template_name: ClassVar[str] = "dialogmote_protokoll.docx"
    document_title: ClassVar[str] = "Protokoll från dialogmöte"

    organisation: Organisation
    meeting_date: date
    start_time: time | None = None
    end_time: time | None = None
    place: RequiredText
    participants: list[Participant] = Field(min_length=1)
    agenda: list[RequiredText] = Field(default_factory=list)
    notes: RequiredText
    next_steps: list[NextStep] = Field(default_factory=list)
    next_meeting: Text | None = None  # "2026-12-10 kl. 13.00, Stadshuset"
    recorder: Text | None = None  # protokollförare
    adjuster: Text | None = None  # justerare

    @field_validator("next_steps", mode="before")
    @classmethod
    def _steps_from_text(cls, value: object) -> object:
        """Accept the stored free-text form: one step per non-empty line."""
        if isinstance(value, str):
            lines = (line.strip().lstrip("-•*").strip() for line in value.splitlines())
            return [{"description": line} for line in lines if line]
        return value


class FollowUpRequestContext(_Document):
    """Begäran om uppföljningsrapport (templates/uppfoljning_begaran.docx)."""

    template_name: ClassVar[str] = "uppfoljning_begaran.docx"
    document_title: ClassVar[str] = "Begäran om uppföljningsrapport"

    organisation: Organisation
    period_start: date
    period_end: date
    due_date: date
    is_final: bool = False  # slutrapport instead of delrapport
    funding_for_period: Amount | None = None
    agreement_date: date | None = None  # when the överenskommelse was signed
    additional_requirements: list[RequiredText] = Field(default_factory=list)
    indicators: list[IndicatorLine] = Field(default_factory=list)  # the values this report is to give
    submission_url: Text | None = None  # e-tjänst
    submission_email: Text | None = None
    officer: Contact | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FollowUpRequestContext:
        _check_period(self.period_start, self.period_end, "Rapportperiod")
        return self


class FollowUpSummaryContext(_Document):
    """Uppföljningsrapport (templates/uppfoljningsrapport.docx): what a report gave, indicator by indicator, and its assessment."""

    template_name: ClassVar[str] = "uppfoljningsrapport.docx"
    document_title: ClassVar[str] = "Uppföljningsrapport"

    organisation: Organisation
    period_start: date
    period_end: date
    due_date: date
    is_final: bool = False
    submitted_on: date
    activities_done: RequiredText
    participants_reached: int = Field(ge=0)
    money_used: Amount
    deviations: Text = ""
    results: list[IndicatorResultLine] = Field(default_factory=list)
    assessment: Text = ""  # "Godkänd", "Komplettering begärd"; empty: not assessed yet
    assessment_comment: Text = ""
    assessed_on: date | None = None
    officer: Contact | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FollowUpSummaryContext:
        _check_period(self.period_start, self.period_end, "Rapportperiod")
        return self


ALL_CONTEXTS: tuple[type[_Document], ...] = (
    AgreementContext,
    DecisionContext,
    DialogueMinutesContext,
    FollowUpRequestContext,
    FollowUpSummaryContext,
)
