"""The structured IOP agreement terms and the parties' signatures."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.agreements import completeness
from service.agreements import service as agreements
from service.agreements.models import Agreement
from service.agreements.schemas import STANDARD_CLAUSES, AgreementDraft, SignatureIn
from service.auth.models import User
from service.cases.access import get_visible_case
from service.cases.models import Case
from service.config import Settings
from service.deps import AppSettings, DbSession
from service.errors import AppError, StaleVersion, ValidationFailed
from service.schemas import Id
from service.web import casepage, goalsform
from service.web.deps import CsrfForm, WebUser, amount, attempt, digits, optional, text, web_router, whole
from service.web.forms import FormState, expected_version
from service.web.labels import swedish_part
from service.web.rendering import redirect, render
from service.web.routes.cases import refused
from service.web.routes.staff import case_for_staff

router = web_router()




ROWS = {"contributions": ("party", "kind", "description", "amount_sek", "extent"),
        "instalments": ("due_on", "amount_sek"),
        "followup_schedule": ("due_on", "description", "is_final")}
PARTY_FIELDS = ("name", "orgnr", "signatory_name", "signatory_role")
TEXT_FIELDS = ("background", "purpose", "target_group", "activities", "extension_terms", "governance", "principles",
               "changes_clause", "termination_clause", "disputes_clause")
SPARE_ROWS = 2
MAX_ROWS = 200  # more than any list of the terms allows (instalments: 120)


def _kronor(value: Any) -> str:
    """Whole kronor with space as thousands separator, as people type them (the parser accepts both)."""
    return f"{value:,}".replace(",", " ") if isinstance(value, int) else ("" if value is None else str(value))


def _terms_values(terms: dict[str, Any]) -> dict[str, Any]:
    """Flatten stored or default terms into form field values."""
    values: dict[str, Any] = {}
    for party in ("public_party", "organisation_party"):
        for f in PARTY_FIELDS:
            values[f"{party}-{f}"] = (terms.get(party) or {}).get(f, "")
    for f in (*TEXT_FIELDS, "funding_amount_sek", "period_start", "period_end", "notice_period_months"):
        v = terms.get(f)
        values[f] = "" if v is None else str(v)
    values["funding_amount_sek"] = _kronor(terms.get("funding_amount_sek"))
    for group, cols in ROWS.items():
        for i, row in enumerate(terms.get(group) or []):
            for col in cols:
                v = row.get(col)
                if col == "is_final":
                    values[f"{group}-{i}-{col}"] = "ja" if v else ""
                else:
                    values[f"{group}-{i}-{col}"] = _kronor(v) if col == "amount_sek" else ("" if v is None else str(v))
    values |= goalsform.values(terms, values)
    return values


def _row_index(key: str) -> int | None:
    """The row number of a 'group-N-column' field; None beyond MAX_ROWS (a crafted 'instalments-99999999999-x'
    would otherwise make the page render billions of spare rows)."""
    part = key.split("-")[1] if key.count("-") >= 1 else ""
    return int(part) if digits(part) and len(part) <= 4 and int(part) < MAX_ROWS else None


def _row_count(values: dict[str, Any], group: str) -> int:
    used = {i for k in values if k.startswith(group + "-") and values[k] and (i := _row_index(k)) is not None}
    return (max(used) + 1 if used else 0) + SPARE_ROWS


def _terms_from_form(form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The terms as far as the form fills them in (a blank field is None: emptied in the draft), and aliases from payload
    positions back to form rows (blank rows are skipped), dotted as the service names them and dashed as pydantic's."""
    data: dict[str, Any] = {}
    for party in ("public_party", "organisation_party"):
        data[party] = {f: optional(form, f"{party}-{f}") for f in PARTY_FIELDS}
    for f in TEXT_FIELDS:
        data[f] = optional(form, f)
    data["goals"], aliases = goalsform.parse(form)
    data["funding_amount_sek"] = amount(form, "funding_amount_sek") if text(form, "funding_amount_sek") else None
    data["notice_period_months"] = optional(form, "notice_period_months")
    data["period_start"] = optional(form, "period_start")
    data["period_end"] = optional(form, "period_end")
    indices = {i for k in form.keys() if any(k.startswith(g + "-") for g in ROWS) and (i := _row_index(k)) is not None}
    for group, cols in ROWS.items():
        rows = []
        for i in sorted(indices):
            row: dict[str, Any] = {}
            for col in cols:
                key = f"{group}-{i}-{col}"
                if col == "is_final":
                    row[col] = text(form, key) == "ja"
                elif col == "amount_sek":
                    row[col] = amount(form, key) if text(form, key) else None
                else:
                    row[col] = optional(form, key)
            if not any(v for k, v in row.items() if k not in ("is_final",)):
                continue  # an untouched spare row
            for col in cols:
                aliases[f"{group}-{len(rows)}-{col}"] = f"{group}-{i}-{col}"
            aliases[f"{group}-{len(rows)}"] = group
            rows.append(row)
        data[group] = rows or None
    aliases |= {k.replace("-", "."): v for k, v in aliases.items()}
    return data, aliases


def _given(value: Any) -> Any:
    """The form's terms without the fields left blank (None), as they would be stored."""
    if isinstance(value, dict):
        return {k: _given(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_given(v) for v in value]
    return value


def _path(name: str) -> tuple[str | int, ...]:
    """A form field's name as a terms path: 'instalments-2-due_on' -> ('instalments', 2, 'due_on')."""
    return tuple(int(p) if digits(p) else p for p in name.split("-"))


def _agreement_fields(counts: dict[str, int], goal_rows: list[int]) -> list[str]:
    """Every field of the form in the order it shows them (the error summary follows it)."""
    fields = [f"{p}-{f}" for p in ("public_party", "organisation_party") for f in PARTY_FIELDS]
    fields += ["background", "purpose", "target_group", "activities", *goalsform.fields(goal_rows, counts["followup_schedule"]), "period_start", "period_end", "funding_amount_sek",
               "contributions", *(f"contributions-{i}-{c}" for i in range(counts["contributions"]) for c in ROWS["contributions"]),
               "extension_terms", "notice_period_months",
               "instalments", *(f"instalments-{i}-{c}" for i in range(counts["instalments"]) for c in ROWS["instalments"]),
               "governance",
               "followup_schedule", *(f"followup_schedule-{i}-{c}" for i in range(counts["followup_schedule"]) for c in ROWS["followup_schedule"]),
               "principles", "changes_clause", "termination_clause", "disputes_clause"]
    return fields


def _default_terms(case: Case) -> dict[str, Any]:
    """A first draft of the terms from the case and its parties."""
    return {
        **STANDARD_CLAUSES,
        "public_party": {"name": case.department.municipality, "orgnr": case.department.municipality_orgnr or ""},
        "organisation_party": {"name": case.organisation.name, "orgnr": case.organisation.orgnr},
        "background": case.need, "target_group": case.target_group, "activities": case.planned_activities,
        "funding_amount_sek": case.requested_amount_sek or None, "period_start": case.period_start, "period_end": case.period_end,
        "contributions": [
            {"party": "public", "kind": "money", "description": "Verksamhetsbidrag", "amount_sek": case.requested_amount_sek or None},
            {"party": "organisation", "kind": "in_kind", "description": case.own_contribution_in_kind or "Ideellt arbete",
             "extent": f"{case.volunteer_hours} ideella timmar" if case.volunteer_hours else ""},
        ],
    }


def _agreement_page(request: Request, session: Session, user: User, case: Case, settings: Settings, state: FormState | None = None,
                    status_code: int = 200) -> Response:
    view = casepage.load(session, user, case, settings)
    row = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    if state is None:
        state = FormState(values=_terms_values(row.terms if row else _default_terms(case)), prefix="avtal")
        state.values["version"] = str(row.version if row else 0)
    counts = {g: _row_count(state.values, g) for g in ROWS}
    goal_rows = goalsform.rows(state.values)
    fields = _agreement_fields(counts, goal_rows)
    state.labels = {name: completeness.label(_path(name)) for name in fields}
    # The progress is that of the saved terms: what the document, the gate and the API see.
    missing = completeness.missing(row.terms) if row else completeness.missing({})
    sections = completeness.sections(row.terms if row else {}, missing)
    errors_by_section = {key: sum(1 for name in state.errors if completeness.SECTION_OF.get(name.split("-")[0]) == key)
                         for key, _, _ in completeness.SECTIONS}
    return render(request, "officer/agreement.html", {
        "title": f"Avtalsvillkor: {case.title}", "v": view, "c": case, "form": state, "counts": counts, "saved": row is not None,
        "goal_rows": goal_rows, "IL": completeness.INDICATOR_LABELS, "units": goalsform.UNIT_OPTIONS,
        "sections": sections, "errors_by_section": errors_by_section, "L": _short_labels(fields),
        "done": sum(1 for s in sections if s.complete), "section_number": {s.key: n for n, s in enumerate(sections, 1)}},
        status_code=status_code)


def _short_labels(fields: list[str]) -> dict[str, str]:
    """The label beside each field (inside its party's or row's fieldset, so without the party or row)."""
    out = {}
    for name in fields:
        path = _path(name)
        if str(path[0]) in completeness.PARTIES and len(path) > 1:
            out[name] = completeness.PARTY_LABELS[str(path[1])]
        elif str(path[0]) in completeness.ROWS and len(path) > 2:
            out[name] = completeness.ROWS[str(path[0])][1][str(path[2])]
        else:
            out[name] = completeness.label(path)
    return out


@router.get("/arenden/{case_id}/avtal")
def agreement_page(case_id: Id, request: Request, user: WebUser, session: DbSession, settings: AppSettings) -> Response:
    """The structured IOP agreement form, in sections, with each section's progress."""
    return _agreement_page(request, session, user, case_for_staff(session, user, case_id), settings)


def _place_missing(state: FormState, exc: AppError, aliases: dict[str, str], known: set[str]) -> None:
    """Each item the service refused at its field (the form's label is added by the error summary), others above the form."""
    state.status = exc.status_code
    for item in exc.errors:
        raw = str(item.get("field") or "")
        name = aliases.get(raw, raw.replace(".", "-"))
        message = swedish_part(str(item.get("reason") or item.get("message") or exc.detail))
        if name in known:
            state.add(name, message)
        else:
            state.general.append(f"{item['label']}: {message}" if item.get("label") else message)
    if not exc.errors:
        state.general.append(swedish_part(exc.detail))


@router.post("/arenden/{case_id}/avtal")
def save_agreement(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Save the terms as a draft (only what is filled in is checked), or mark them complete (every missing item listed)."""
    case = case_for_staff(session, user, case_id)
    ready = text(form, "action") != "utkast"  # the form's buttons say which; a post without one asks for complete terms
    state = FormState.from_form(form, prefix="avtal")
    data, aliases = _terms_from_form(form)
    counts = {g: _row_count(state.values, g) for g in ROWS}
    fields = [*_agreement_fields(counts, [goalsform.MAX_INDICATORS] * goalsform.MAX_GOALS),
              *(f"{g}-{i}-{c}" for g, cols in ROWS.items() for i in range(counts[g] + 50) for c in cols)]
    incomplete = False
    try:
        draft = AgreementDraft.model_validate(data)  # the format of what is filled in, with the form's Swedish messages
        with attempt(session):
            agreements.save_draft(session, user, case, draft.model_dump(mode="json", exclude_unset=True), expected_version(form), ready=ready)
    except ValidationError as exc:
        state.add_validation(exc, fields=fields, aliases=aliases, default_field=None)
        if ready:  # what is missing besides, so one round lists everything (a field keeps its format error)
            known = set(fields)
            for item in completeness.missing(_given(data)):
                name = aliases.get(item.field, item.field.replace(".", "-"))
                if name in known:
                    state.add(name, item.message)
                    incomplete = True
    except StaleVersion as exc:
        stored = session.scalar(select(Agreement).where(Agreement.case_id == case.id).execution_options(populate_existing=True))
        state.conflict(_terms_values(stored.terms) if stored else {}, int(exc.extra.get("current_version") or 0))
    except ValidationFailed as exc:
        _place_missing(state, exc, aliases, set(fields))
        incomplete = ready and any(item.get("reason") for item in exc.errors)  # completeness refused, not the format
    except AppError as exc:
        state.add_app_error(exc, fields=fields)
    if state.has_errors:
        if incomplete:
            state.general.insert(0, "Villkoren är inte kompletta och sparades inte. Fyll i det som saknas nedan, eller spara "
                                    "dem som utkast så länge.")
        session.expire_all()
        return _agreement_page(request, session, user, get_visible_case(session, user, case_id), settings, state, state.status)
    if not ready:
        return redirect(f"/arenden/{case.id}/avtal", flash="avtal-utkast-sparat")
    return redirect(f"/arenden/{case.id}", flash="avtal-sparat")


SIGNATURE_FIELDS = ("party", "name", "role", "signed_on", "method", "document_id")


def _signature_from_form(form: FormData) -> SignatureIn:
    """The signature form (recording and correcting) as the API's payload."""
    return SignatureIn.model_validate({"party": text(form, "party"), "name": text(form, "name"), "role": text(form, "role"),
                                       "signed_on": optional(form, "signed_on"), "method": text(form, "method") or "signed_copy",
                                       "document_id": whole(form, "document_id")})


@router.post("/arenden/{case_id}/underskrift")
def add_signature(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Record a party's signature of the agreement (the officer either party's, an organisation member its own)."""
    case = get_visible_case(session, user, case_id)  # who may sign for which party: agreements.service
    try:
        data = _signature_from_form(form)
        with attempt(session):
            agreements.add_signature(session, user, case, data)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, "signature", form, exc, SIGNATURE_FIELDS)
    return redirect(f"/arenden/{case.id}#avtal", flash="underskrift-sparad")


@router.post("/arenden/{case_id}/underskrift/{signature_id}")
def correct_signature(case_id: Id, signature_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
                      settings: AppSettings) -> Response:
    """Correct a recorded signature before the agreement enters into force (an organisation member its own); audited."""
    case = get_visible_case(session, user, case_id)  # who may sign for which party: agreements.service
    try:
        data = _signature_from_form(form)
        with attempt(session):
            agreements.correct_signature(session, user, case, signature_id, data)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, f"sig{signature_id}", form, exc, SIGNATURE_FIELDS)
    return redirect(f"/arenden/{case.id}#avtal", flash="underskrift-rattad")


@router.post("/arenden/{case_id}/underskrift/{signature_id}/ta-bort")
def remove_signature(case_id: Id, signature_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
                     settings: AppSettings) -> Response:
    """Remove a recorded signature before the agreement enters into force (an organisation member its own); audited."""
    case = get_visible_case(session, user, case_id)  # who may sign for which party: agreements.service
    try:
        with attempt(session):
            agreements.remove_signature(session, user, case, signature_id)
    except AppError as exc:
        return refused(request, session, user, case, settings, f"sig{signature_id}", form, exc)
    return redirect(f"/arenden/{case.id}#avtal", flash="underskrift-borttagen")
