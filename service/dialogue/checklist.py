"""The IOP suitability checklist (lämplighetsbedömning), declared once."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Answer(StrEnum):
    """Each item is answered yes, no or unclear."""

    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Item:
    """One checklist question."""

    key: str
    question: str
    mandatory: bool = True


ITEMS: tuple[Item, ...] = (
    Item("ideburen", "Organisationen är idéburen: allmännyttigt syfte och ingen vinstutdelning."),
    Item("initiative", "Initiativet kommer från organisationen, eller behovet är gemensamt identifierat."),
    Item("own_mandate", "Verksamheten bedrivs, eller skulle bedrivas, på organisationens eget mandat."),
    Item("both_contribute", "Båda parter bidrar (pengar eller i natura: ideella timmar, lokaler …)."),
    Item("not_procurement", "Det är inte ett köp av tjänster och det finns ingen marknad att skydda (LOU)."),
    Item("not_standard_grant", "Det är inte ett vanligt föreningsbidrag."),
    Item("municipal_competence", "Inom kommunal kompetens: allmänt intresse och likställighet (kommunallagen)."),
    Item("state_aid", "Statsstöd: de minimis-summan för organisationen under rullande tre år inklusive detta ärende "
         "är högst 300 000 euro, eller annan rättslig grund anges."),
    Item("target_group_goals", "Målgrupp och mål är definierade."),
)
BY_KEY = {item.key: item for item in ITEMS}


def missing_items(items: dict[str, dict]) -> list[dict[str, str]]:
    """Checklist problems as gate errors: unanswered items and mandatory items not 'yes'."""
    out = []
    for item in ITEMS:
        entry = items.get(item.key)
        if not entry or not entry.get("answer"):
            out.append({"field": f"suitability.{item.key}", "message": f"Obesvarad: {item.question}"})
        elif item.mandatory and entry["answer"] != Answer.YES:
            out.append({"field": f"suitability.{item.key}", "message": f"Måste vara 'ja': {item.question}"})
    return out
