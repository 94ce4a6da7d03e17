"""How the web shows values: stage tags and steps, amounts, dates and times (the names of codes are in service.labels)."""

from __future__ import annotations

import re
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


# An amount of kronor written by a service message or label in any style: 200000 kr, 200,000 kr, 200 000 kr.
_KRONOR = re.compile(r"(?<![\d.,])(\d{1,3}(?:[ ,\u00a0]\d{3})+|\d+)[ \u00a0]?kr\b")


def amounts_in_text(text: str) -> str:
    """Every amount of kronor in a text as the web shows amounts ('200 000 kr', non-breaking spaces)."""
    return _KRONOR.sub(lambda m: sek(int(re.sub(r"\D", "", m.group(1)))), text)


def swedish_part(message: str) -> str:
    """The Swedish half of a bilingual 'svenska / english' service message, its amounts written the Swedish way."""
    return amounts_in_text(message.split(" / ", 1)[0].strip())
