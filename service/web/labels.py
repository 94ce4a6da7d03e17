"""Swedish labels for codes shown in the interface, and value formatting."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.auth.models import Role
from service.cases.stages import SWEDISH as STAGE_LABELS
from service.cases.stages import Stage
from service.documents.models import DocumentKind
from service.organisations.models import LegalForm
from service.reviews.models import Decision, ReviewStatus

ROLE_LABELS: dict[str, str] = {
    Role.ORG_MEMBER: "Organisationsmedlem",
    Role.OFFICER: "Handläggare",
    Role.APPROVER: "Beslutsfattare",
    Role.REGISTRAR: "Registrator",
    Role.ADMIN: "Systemförvaltare",
}

LEGAL_FORMS: dict[str, str] = {
    LegalForm.IDEELL_FORENING: "Ideell förening",
    LegalForm.STIFTELSE: "Stiftelse",
    LegalForm.EKONOMISK_FORENING: "Ekonomisk förening",
    LegalForm.TROSSAMFUND: "Registrerat trossamfund",
    LegalForm.AKTIEBOLAG_ALLMANNYTTIGT: "Aktiebolag med allmännyttigt syfte",
    LegalForm.ANNAN: "Annan associationsform",
}

DOCUMENT_KINDS: dict[str, str] = {
    DocumentKind.AGREEMENT: "IOP-avtal (utkast för underskrift)",
    DocumentKind.SIGNED_AGREEMENT: "Undertecknat IOP-avtal",
    DocumentKind.DECISION: "Beslut",
    DocumentKind.DIALOGUE_MINUTES: "Protokoll från dialogmöte",
    DocumentKind.FOLLOWUP_REQUEST: "Begäran om uppföljningsrapport",
    DocumentKind.ATTACHMENT: "Bilaga",
    DocumentKind.BOARD_MINUTES: "Styrelseprotokoll",
}

REVIEW_STATUS: dict[str, str] = {
    ReviewStatus.PENDING: "Väntar på beslut",
    ReviewStatus.APPROVED: "Godkänd",
    ReviewStatus.REJECTED: "Avslagen",
    ReviewStatus.CHANGES_REQUESTED: "Komplettering begärd",
    ReviewStatus.CANCELLED: "Återtagen",
}

DECISIONS: dict[str, str] = {
    Decision.APPROVE: "Godkänn",
    Decision.REJECT: "Avslå",
    Decision.CHANGES_REQUESTED: "Begär komplettering",
}

DEADLINE_LABELS: dict[str, str] = {
    "triage": "Handläggare ska utses", "review": "Beslut i granskning", "dialogue": "Dialogskedet",
    "agreement_signature": "Underskrift av avtal", "followup_report": "Uppföljningsrapport",
    "agreement_expiry": "Avtalet löper ut", "payment_instalment": "Utbetalning",
}

# The main path of a case, shown as a step indicator.
MAIN_PATH: tuple[Stage, ...] = (Stage.DRAFT, Stage.IDENTIFY_NEED, Stage.DIALOGUE, Stage.AGREEMENT, Stage.FOLLOW_UP, Stage.CLOSED)

# Tag colour per stage (CSS modifier); all pairs meet 4.5:1 contrast.
STAGE_TONE: dict[str, str] = {
    Stage.DRAFT: "neutral",
    Stage.IDENTIFY_NEED: "info",
    Stage.DIALOGUE: "info",
    Stage.AGREEMENT: "info",
    Stage.FOLLOW_UP: "success",
    Stage.CLOSED: "neutral",
    Stage.REJECTED: "danger",
    Stage.WITHDRAWN: "neutral",
}

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def stage_label(stage: str | None) -> str:
    """Swedish name of a stage."""
    if stage is None:
        return "–"
    try:
        return STAGE_LABELS[Stage(stage)]
    except ValueError:
        return str(stage)


def sek(amount: int | float | None) -> str:
    """400000 -> '400 000 kr' with non-breaking spaces, as Swedish typography wants."""
    if amount is None:
        return "–"
    return f"{int(amount):,}".replace(",", "\u00a0") + "\u00a0kr"


def number(value: int | float | None) -> str:
    """Thousands separated by non-breaking spaces."""
    return "–" if value is None else f"{int(value):,}".replace(",", "\u00a0")


def datum(value: date | datetime | None) -> str:
    """ISO date (the Swedish standard format); datetimes in Stockholm time."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = value.astimezone(STOCKHOLM).date()
    return value.isoformat()


def tidpunkt(value: datetime | None) -> str:
    """Date and time in Stockholm, e.g. 2026-11-23 14:05."""
    if value is None:
        return "–"
    return value.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def swedish_part(message: str) -> str:
    """The Swedish half of a bilingual 'svenska / english' service message."""
    return message.split(" / ", 1)[0].strip()
