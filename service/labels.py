"""Swedish names of the codes users see, one table per enum, for the web, the API's texts, e-mails and documents.

Stage names are defined beside the stage machine (its 409 names both stages) and read from here
like the rest. Sentence forms (lower case, as e-mails use them mid-sentence) are their own tables.
"""

from __future__ import annotations

from service.agreements.models import Party
from service.auth.models import Role
from service.cases.stages import SWEDISH as STAGES
from service.deadlines.models import DeadlineKind, DeadlineStatus
from service.documents.models import DocumentKind
from service.organisations.models import LegalForm
from service.reviews.models import Decision, ReviewStatus

__all__ = ["STAGES", "ROLES", "LEGAL_FORMS", "DOCUMENT_KINDS", "REVIEW_STATUS", "REVIEW_DECIDED", "DECISIONS",
           "DECISIONS_IN_TEXT", "DEADLINE_KINDS", "DEADLINE_KINDS_IN_TEXT", "DEADLINE_STATUS", "PARTIES", "CASE_FIELDS",
           "AUDIT_ACTIONS", "DIARY_DIRECTIONS", "label"]

ROLES: dict[Role, str] = {
    Role.ORG_MEMBER: "Organisationsmedlem",
    Role.OFFICER: "Handläggare",
    Role.APPROVER: "Beslutsfattare",
    Role.REGISTRAR: "Registrator",
    Role.ADMIN: "Systemförvaltare",
}

LEGAL_FORMS: dict[LegalForm, str] = {
    LegalForm.IDEELL_FORENING: "Ideell förening",
    LegalForm.STIFTELSE: "Stiftelse",
    LegalForm.EKONOMISK_FORENING: "Ekonomisk förening",
    LegalForm.TROSSAMFUND: "Registrerat trossamfund",
    LegalForm.AKTIEBOLAG_ALLMANNYTTIGT: "Aktiebolag med allmännyttigt syfte",
    LegalForm.ANNAN: "Annan associationsform",
}

DOCUMENT_KINDS: dict[DocumentKind, str] = {
    DocumentKind.AGREEMENT: "IOP-avtal (utkast för underskrift)",
    DocumentKind.SIGNED_AGREEMENT: "Undertecknat IOP-avtal",
    DocumentKind.DECISION: "Beslut",
    DocumentKind.DIALOGUE_MINUTES: "Protokoll från dialogmöte",
    DocumentKind.FOLLOWUP_REQUEST: "Begäran om uppföljningsrapport",
    DocumentKind.FOLLOWUP_SUMMARY: "Uppföljningsrapport (sammanställning)",
    DocumentKind.ATTACHMENT: "Bilaga",
    DocumentKind.BOARD_MINUTES: "Styrelseprotokoll",
}

REVIEW_STATUS: dict[ReviewStatus, str] = {
    ReviewStatus.PENDING: "Väntar på beslut",
    ReviewStatus.APPROVED: "Godkänd",
    ReviewStatus.REJECTED: "Avslagen",
    ReviewStatus.CHANGES_REQUESTED: "Komplettering begärd",
    ReviewStatus.CANCELLED: "Återtagen",
}

# A settled review as the case's history tells it.
REVIEW_DECIDED: dict[ReviewStatus, str] = {
    ReviewStatus.APPROVED: "Beslut: godkänt",
    ReviewStatus.REJECTED: "Beslut: avslag",
    ReviewStatus.CHANGES_REQUESTED: "Beslut: komplettering begärd",
    ReviewStatus.CANCELLED: "Begäran om beslut återtogs",
}

DECISIONS: dict[Decision, str] = {
    Decision.APPROVE: "Godkänn",
    Decision.REJECT: "Avslå",
    Decision.CHANGES_REQUESTED: "Begär komplettering",
}

# What the organisation is told was decided ("Ert ärende är …").
DECISIONS_IN_TEXT: dict[Decision, str] = {
    Decision.APPROVE: "beviljat",
    Decision.REJECT: "avslaget",
    Decision.CHANGES_REQUESTED: "komplettering begärd",
}

DEADLINE_KINDS: dict[DeadlineKind, str] = {
    DeadlineKind.TRIAGE: "Handläggare ska utses",
    DeadlineKind.REVIEW: "Beslut i granskning",
    DeadlineKind.DIALOGUE: "Dialogskedet",
    DeadlineKind.AGREEMENT_SIGNATURE: "Underskrift av avtal",
    DeadlineKind.FOLLOWUP_REPORT: "Uppföljningsrapport",
    DeadlineKind.AGREEMENT_EXPIRY: "Avtalet löper ut",
    DeadlineKind.PAYMENT_INSTALMENT: "Utbetalning",
}

# Mid-sentence forms for reminders ("Påminnelse om …").
DEADLINE_KINDS_IN_TEXT: dict[DeadlineKind, str] = {
    DeadlineKind.TRIAGE: "tilldelning av handläggare",
    DeadlineKind.REVIEW: "beslut i granskning",
    DeadlineKind.DIALOGUE: "dialogfasen",
    DeadlineKind.AGREEMENT_SIGNATURE: "underskrift av avtalet",
    DeadlineKind.FOLLOWUP_REPORT: "uppföljningsrapport",
    DeadlineKind.AGREEMENT_EXPIRY: "avtalets slutdatum",
    DeadlineKind.PAYMENT_INSTALMENT: "utbetalning enligt avtalet",
}

DEADLINE_STATUS: dict[DeadlineStatus, str] = {
    DeadlineStatus.OPEN: "öppen",
    DeadlineStatus.MET: "uppfylld",
    DeadlineStatus.MISSED: "missad",
    DeadlineStatus.CANCELLED: "avbruten",
    DeadlineStatus.SUSPENDED: "vilande (ärendet är pausat)",
}

PARTIES: dict[Party, str] = {Party.PUBLIC: "kommunen/regionen", Party.ORGANISATION: "organisationen"}

# A case's content fields as the proposal form names them (the history says which were changed).
CASE_FIELDS: dict[str, str] = {
    "title": "förslagets namn", "need": "identifierat behov", "target_group": "målgrupp", "planned_activities": "planerade aktiviteter",
    "own_contribution_sek": "organisationens insats i pengar", "own_contribution_in_kind": "organisationens insats i annan form",
    "volunteer_hours": "ideella timmar", "requested_amount_sek": "begärt bidrag", "period_start": "startdatum", "period_end": "slutdatum",
}

# The case history's title of each audited action that has no richer record of its own (see timeline.service).
# A diary entry's direction (service.diarium.models.Direction) as a column shows it.
DIARY_DIRECTIONS: dict[str, str] = {"inkommande": "Inkommande", "upprättad": "Upprättad", "utgående": "Utgående"}

AUDIT_ACTIONS: dict[str, str] = {
    "case.created": "Utkast skapat",
    "case.updated": "Ärendets uppgifter ändrades",
    "case.changes_submitted": "Komplettering inskickad",
    "case.completion_requested": "Komplettering begärd av handläggaren",
    "case.officer_assigned": "Handläggare tilldelad",
    "case.suspended": "Ärendet pausades",
    "case.resumed": "Ärendet återupptogs",
    "deadline.extended": "Tidsfrist förlängd",
    "deadline.missed": "Tidsfrist missad",
    "reminder.resend": "Påminnelse skickad igen",
    "agreement.terms_saved": "Överenskommelsens villkor sparades",
    "agreement.signature_corrected": "Underskrift rättad",
    "agreement.signature_removed": "Underskrift borttagen",
    "document.signed_agreement_confirmed": "Undertecknad överenskommelse bekräftad",
    "signing.order_created": "Överenskommelsen skickades för elektronisk underskrift",
    "signing.order_superseded": "Underskriftsordern ersattes av en nyare version av överenskommelsen",
    "agreement.e_signed": "Elektronisk underskrift",
    "document.sealed": "Beslutet försågs med kommunens elektroniska sigill",
    "dialogue.suitability_assessed": "Lämplighetsbedömning sparad",
    "dialogue.meeting_redacted": "Personuppgifter i dialogmöte raderade",
    "message.redacted": "Personuppgifter i meddelande raderade",
    "case.completion_request_redacted": "Personuppgifter i begäran om komplettering raderade",
    "review.reassigned": "Granskning tilldelad annan beslutsfattare",
    "review.cancelled": "Begäran om beslut återtogs",
    "diary.corrected": "Diariepost rättad av registratorn",
}


def label(table: dict, code: str | None, default: str = "–") -> str:  # type: ignore[type-arg]
    """The Swedish name of a code in one of the tables; the code itself if it is unknown (old data), `default` for None."""
    if code is None:
        return default
    return table.get(code, str(code))
