"""Whether agreement terms are complete, and what is missing, by Swedish label and section.

Contract:
- The rule is AgreementTerms (service.agreements.schemas): terms are complete exactly when they validate as AgreementTerms.
  This module only reads its verdict: `missing` lists every item it refuses (each field, row column and cross-check, such as
  a sum or a date outside the period) with its dotted path, its Swedish label and its section; `sections` counts them per
  section; `ensure_complete` refuses incomplete terms listing every item. The gate, the document builder, the web form and
  the API all ask here, so a draft is complete on one page exactly when it is complete on the others.
- Labels are the agreement form's labels (the form reads them from here); a row is named by its place in the stored list
  ("Utbetalning 2").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from service.agreements.models import Agreement
from service.agreements.schemas import STANDARD_CLAUSES, AgreementOut, AgreementTerms, MissingItem, SectionProgress
from service.errors import Conflict, ValidationFailed

PARTIES = {"public_party": "Kommunen eller regionen", "organisation_party": "Den idéburna organisationen"}
PARTY_LABELS = {"name": "Namn", "orgnr": "Organisationsnummer", "signatory_name": "Firmatecknare", "signatory_role": "Firmatecknarens roll",
                "second_signatory": "Andra firmatecknare"}
LABELS = {
    "background": "Bakgrund och behovsanalys", "purpose": "Syfte", "goals": "Mål", "target_group": "Målgrupp", "activities": "Aktiviteter",
    "period_start": "Avtalet gäller från", "period_end": "Avtalet gäller till",
    "funding_amount_sek": "Kommunens ekonomiska bidrag totalt (kronor)", "contributions": "Parternas bidrag",
    "extension_terms": "Förlängning", "notice_period_months": "Uppsägningstid (månader)",
    "instalments": "Utbetalningar",
    "governance": "Styrgrupp och arbetsgrupp", "followup_schedule": "Uppföljningsrapporter",
    "principles": "Värdegrund och principer", "changes_clause": "Ändringar", "termination_clause": "Hävning och uppsägning",
    "disputes_clause": "Tvister",
}
# Row lists: what one row is called, and its columns' labels.
ROWS: dict[str, tuple[str, dict[str, str]]] = {
    "contributions": ("Bidrag", {"party": "Part", "kind": "Typ av bidrag", "description": "Beskrivning",
                                 "amount_sek": "Belopp eller värde (kronor)", "extent": "Omfattning"}),
    "instalments": ("Utbetalning", {"due_on": "Datum", "amount_sek": "Belopp (kronor)"}),
    "followup_schedule": ("Rapport", {"due_on": "Lämnas senast", "description": "Beskrivning", "is_final": "Slutrapport"}),
}
# A goal's indicator columns (a goal is "Mål 1", its indicators "Mål 1, indikator 2").
INDICATOR_LABELS = {"name": "Indikator", "unit": "Enhet", "baseline": "Utgångsvärde", "target": "Målvärde",
                    "how_measured": "Hur det mäts", "periods": "Rapporteras i"}
# The form's steps, in order; every field of AgreementTerms is in exactly one.
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("parter", "Parter", ("public_party", "organisation_party")),
    ("verksamhet", "Verksamhet", ("background", "purpose", "target_group", "activities")),
    ("mal", "Mål och indikatorer", ("goals",)),
    ("period", "Period och ekonomi", ("period_start", "period_end", "funding_amount_sek", "contributions", "extension_terms",
                                      "notice_period_months")),
    ("utbetalningar", "Utbetalningar", ("instalments",)),
    ("uppfoljning", "Uppföljning", ("governance", "followup_schedule")),
    ("ovrigt", "Övrigt", ("principles", "changes_clause", "termination_clause", "disputes_clause")),
)
SECTION_OF = {f: key for key, _, fields in SECTIONS for f in fields}
# A list with too few rows, said the way the form asks for it.
TOO_FEW = {
    "goals": "Skriv minst ett mål.",
    "contributions": "Ange bidragen från båda parter, minst ett var.",
    "instalments": "Lägg till minst en utbetalning.",
    "followup_schedule": "Lägg till minst en rapport, varav en slutrapport.",
}
MISSING_TYPES = {"missing", "string_too_short"}


def label(path: tuple[str | int, ...]) -> str:
    """The Swedish label of a field by its path, e.g. ('instalments', 1, 'amount_sek') -> 'Utbetalning 2 – Belopp (kronor)'."""
    if not path:
        return "Avtalsvillkoren"
    head = str(path[0])
    if head in PARTIES:
        if len(path) == 1:
            return PARTIES[head]
        sub = str(path[1])
        if sub == "second_signatory" and len(path) > 2:
            return f"{PARTIES[head]} – {PARTY_LABELS[sub]}, {'namn' if path[2] == 'name' else 'roll'}"
        return f"{PARTIES[head]} – {PARTY_LABELS.get(sub, sub)}"
    if head in ROWS and len(path) >= 2 and isinstance(path[1], int):
        noun, columns = ROWS[head]
        row = f"{noun} {path[1] + 1}"
        return f"{row} – {columns.get(str(path[2]), str(path[2]))}" if len(path) > 2 else row
    if head == "goals" and len(path) >= 2 and isinstance(path[1], int):
        goal = f"Mål {path[1] + 1}"
        if len(path) >= 4 and path[2] == "indicators" and isinstance(path[3], int):
            indicator = f"{goal}, indikator {path[3] + 1}"
            return f"{indicator} – {INDICATOR_LABELS.get(str(path[4]), str(path[4]))}" if len(path) > 4 else indicator
        return goal
    return LABELS.get(head, head)


def _message(err: Mapping[str, Any], path: tuple[str | int, ...]) -> str:
    """What is wrong, in Swedish (the messages of AgreementTerms' own checks are Swedish already)."""
    etype = err.get("type", "")
    if etype == "too_short" and len(path) == 1 and str(path[0]) in TOO_FEW:
        return TOO_FEW[str(path[0])]
    if etype in MISSING_TYPES:
        return TOO_FEW[str(path[0])] if len(path) == 1 and str(path[0]) in TOO_FEW else "Fyll i fältet."
    if etype == "value_error":
        text = str((err.get("ctx") or {}).get("error") or err.get("msg", "")).removeprefix("Value error, ")
        return text.split(" / ", 1)[0].strip()
    if etype in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return "Ange ett datum som ÅÅÅÅ-MM-DD."
    if etype in ("int_parsing", "int_type", "int_from_float"):
        return "Ange ett heltal, utan decimaler."
    if etype in ("enum", "literal_error"):
        return "Välj ett av alternativen."
    return str(err.get("msg", "Ogiltigt värde."))


def _with_containers(terms: Mapping[str, Any]) -> dict[str, Any]:
    """Stored terms as AgreementTerms should judge them.

    A party left out entirely is each of its fields missing, so every one of them is listed, not just the party. A clause
    left out of stored terms was emptied by the editor (new terms start from the standard clauses, and complete terms are
    stored with every clause), so it is missing too rather than silently the standard text again.
    """
    data = dict(terms)
    for party in PARTIES:
        if data.get(party) is None:
            data[party] = {}
    for clause in STANDARD_CLAUSES:
        if data.get(clause) is None:
            data[clause] = ""
    return data


def missing(terms: Mapping[str, Any] | None) -> list[MissingItem]:
    """Every item that keeps these terms (stored JSON, draft or complete) from being complete, in the order of the form."""
    try:
        AgreementTerms.model_validate(_with_containers(terms or {}))
    except ValidationError as exc:
        items = []
        for err in exc.errors():
            path = tuple(p for p in err.get("loc", ()) if p != "body")
            field = ".".join(str(p) for p in path)
            items.append(MissingItem(field=field, label=label(path), section=SECTION_OF.get(str(path[0]) if path else "", "ovrigt"),
                                     message=_message(err, path)))
        order = {key: i for i, (key, _, _) in enumerate(SECTIONS)}
        return sorted(items, key=lambda m: order.get(m.section, len(order)))  # stable: within a section, AgreementTerms' order
    return []


def is_complete(terms: Mapping[str, Any] | None) -> bool:
    """True when the terms validate as AgreementTerms."""
    return not missing(terms)


def sections(terms: Mapping[str, Any] | None, items: list[MissingItem] | None = None) -> list[SectionProgress]:
    """Each section of the form, complete or with how many items are missing."""
    items = missing(terms) if items is None else items
    return [SectionProgress(key=key, title=title, missing=n, complete=n == 0)
            for key, title, _ in SECTIONS for n in [sum(1 for m in items if m.section == key)]]


def as_errors(items: list[MissingItem]) -> list[dict[str, str]]:
    """problem+json errors[]: the field's path, its label, the message led by the label, and the bare reason (for a form
    that shows the label itself)."""
    return [{"field": m.field, "label": m.label, "message": f"{m.label}: {m.message[:1].lower()}{m.message[1:]}", "reason": m.message}
            for m in items]


def ensure_complete(terms: Mapping[str, Any] | None, *, stored: bool = False) -> None:
    """Refuse incomplete terms listing every missing item: 422 for terms being saved, 409 for stored ones (generating, deciding)."""
    items = missing(terms)
    if not items:
        return
    fields = ", ".join(m.label for m in items)
    if stored:
        raise Conflict(f"Avtalsvillkoren är inte kompletta; komplettera dem på avtalssidan: {fields} "
                       f"/ the agreement terms are incomplete", errors=as_errors(items))
    raise ValidationFailed(f"Avtalsvillkoren är inte kompletta: {fields} / the agreement terms are incomplete", errors=as_errors(items))


def report(agreement: Agreement) -> AgreementOut:
    """The stored terms as the API answers them: with completeness, what is missing and each section's progress."""
    items = missing(agreement.terms)
    return AgreementOut(case_id=agreement.case_id, terms=agreement.terms, funding_amount_sek=agreement.funding_amount_sek,
                        period_start=agreement.period_start, period_end=agreement.period_end, version=agreement.version,
                        complete=not items, missing=items, sections=sections(agreement.terms, items))
