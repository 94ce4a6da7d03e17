"""How the web shows values: stage tags and steps, amounts, dates and times (the names of codes are in service.labels)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.cases.stages import Stage
from service.labels import STAGES

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
        return STAGES[Stage(stage)]
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
