"""The organisation side: start page, organisation registration, proposal form."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData

from service.auth.models import Role, User
from service.cases import completion
from service.cases import service as cases
from service.cases.access import get_visible_case
from service.cases.models import Case
from service.cases.schemas import CaseCreate, CasePatch
from service.cases.stages import TERMINAL, Stage
from service.departments.models import Department
from service.deps import DbSession
from service.errors import AppError, Conflict, StaleVersion
from service.followup.models import FollowUpReport
from service.organisations import service as organisations
from service.organisations.models import Organisation
from service.organisations.schemas import OrganisationIn, OrganisationPatch
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, amount, attempt, digits, optional, require_role, text, web_router
from service.web.forms import FormState, expected_version
from service.web.rendering import redirect, render

router = web_router()

ORG_FIELDS = ("name", "orgnr", "legal_form", "purpose", "street_address", "postal_code", "city", "email", "phone",
              "kammarkollegiet_registered_on", "joined_overenskommelse_on", "contact_name", "contact_email",
              "contact_phone", "contact_role")
CASE_FIELDS = ("title", "department_id", "need", "target_group", "planned_activities", "own_contribution_sek",
               "own_contribution_in_kind", "volunteer_hours", "requested_amount_sek", "period_start", "period_end")
ORG_LABELS = {"name": "Organisationens namn", "orgnr": "Organisationsnummer", "legal_form": "Associationsform",
              "purpose": "Ändamål", "postal_code": "Postnummer", "email": "E-post", "phone": "Telefon",
              "kammarkollegiet_registered_on": "Registrerad hos Kammarkollegiet",
              "joined_overenskommelse_on": "Ansluten till överenskommelsen", "contact_name": "Kontaktpersonens namn",
              "contact_email": "Kontaktpersonens e-post"}
CASE_LABELS = {"title": "Förslagets namn", "department_id": "Förvaltning", "need": "Identifierat behov", "target_group": "Målgrupp",
               "planned_activities": "Planerade aktiviteter", "own_contribution_sek": "Organisationens insats i pengar",
               "own_contribution_in_kind": "Organisationens insats i annan form", "volunteer_hours": "Ideella timmar",
               "requested_amount_sek": "Begärt bidrag", "period_start": "Startdatum", "period_end": "Slutdatum"}
# Service-layer field names that are not form fields of their own.
CASE_ALIASES = {"own_contribution": "own_contribution_sek", "period": "period_start",
                "contacts-0-name": "contact_name", "contacts-0-email": "contact_email",
                "contacts-0-phone": "contact_phone", "contacts-0-role": "contact_role"}


def _org_payload(form: FormData, *, with_contact: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": text(form, "name"), "orgnr": text(form, "orgnr"), "legal_form": text(form, "legal_form"),
        "purpose": text(form, "purpose"), "street_address": text(form, "street_address"),
        "postal_code": text(form, "postal_code"), "city": text(form, "city"), "email": optional(form, "email"),
        "phone": optional(form, "phone"), "kammarkollegiet_registered_on": optional(form, "kammarkollegiet_registered_on"),
        "joined_overenskommelse_on": optional(form, "joined_overenskommelse_on"),
    }
    if with_contact:
        contact = {"name": text(form, "contact_name"), "email": optional(form, "contact_email"),
                   "phone": optional(form, "contact_phone"), "role": optional(form, "contact_role")}
        data["contacts"] = [contact] if any(contact.values()) else []
    return data


@router.get("/start")
def start(request: Request, user: WebUser, session: DbSession) -> Response:
    """The organisation member's start page: own cases and what needs doing."""
    require_role(user, Role.ORG_MEMBER)
    org = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    own: list[Case] = []
    todo: list[tuple[Case, str]] = []
    if org is not None:
        own = list(session.scalars(select(Case).where(Case.organisation_id == org.id).order_by(Case.updated_at.desc(), Case.id.desc())))
        reports = session.scalars(
            select(FollowUpReport).join(Case, Case.id == FollowUpReport.case_id)
            .where(Case.organisation_id == org.id, Case.stage == Stage.FOLLOW_UP, FollowUpReport.submitted_at.is_(None))
        ).all()
        by_id = {c.id: c for c in own}
        for c in own:
            if c.stage == Stage.DRAFT:
                todo.append((c, "Utkastet är inte inskickat."))
            elif c.open_for_changes and c.stage not in TERMINAL:
                ask = completion.latest(session, c)
                asker = session.get(User, ask.by_id) if ask else None
                todo.append((c, f"{asker.full_name} har begärt komplettering." if asker else "Komplettering är begärd."))
        for r in reports:
            todo.append((by_id[r.case_id], f"Uppföljningsrapport ska lämnas senast {r.due_on.isoformat()}."))
    return render(request, "org/start.html", {"title": "Start", "org": org, "cases": own, "todo": todo})


@router.get("/organisation/registrera")
def register_page(request: Request, user: WebUser) -> Response:
    """Form to register the member's organisation."""
    require_role(user, Role.ORG_MEMBER)
    if user.organisation_id:
        return redirect("/organisation")
    return render(request, "org/organisation_form.html", {"title": "Registrera organisation", "form": FormState(prefix="org"), "mode": "new"})


@router.post("/organisation/registrera")
def register(request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Validate the organisationsnummer and register the organisation."""
    require_role(user, Role.ORG_MEMBER)
    state = FormState.from_form(form, prefix="org", labels=ORG_LABELS)
    try:
        data = OrganisationIn.model_validate(_org_payload(form, with_contact=True))
        with attempt(session):
            organisations.register(session, user, data)
    except ValidationError as exc:
        state.add_validation(exc, fields=ORG_FIELDS, aliases=CASE_ALIASES, default_field="name")
    except AppError as exc:
        state.add_app_error(exc, fields=ORG_FIELDS)
    if state.has_errors:
        return render(request, "org/organisation_form.html", {"title": "Registrera organisation", "form": state, "mode": "new"},
                      status_code=state.status)
    return redirect("/start", flash="org-registrerad")


@router.get("/organisation")
def organisation_page(request: Request, user: WebUser, session: DbSession) -> Response:
    """The member's organisation, editable."""
    require_role(user, Role.ORG_MEMBER)
    if not user.organisation_id:
        return redirect("/organisation/registrera")
    org = organisations.get_visible(session, user, user.organisation_id)
    values = {f: getattr(org, f) for f in ORG_FIELDS if hasattr(org, f)}
    values = {k: ("" if v is None else str(v)) for k, v in values.items()}
    values["version"] = str(org.version)
    return render(request, "org/organisation_form.html", {"title": "Min organisation", "form": FormState(values=values, prefix="org"),
                                                          "mode": "edit", "org": org})


@router.post("/organisation")
def organisation_save(request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Save changed registration data."""
    require_role(user, Role.ORG_MEMBER)
    if not user.organisation_id:
        return redirect("/organisation/registrera")
    org = organisations.get_visible(session, user, user.organisation_id)
    state = FormState.from_form(form, prefix="org", labels=ORG_LABELS)
    try:
        if text(form, "version") != str(org.version):
            raise Conflict("Uppgifterna har ändrats av någon annan sedan du öppnade sidan. Kontrollera och spara igen.")
        data = OrganisationPatch.model_validate(_org_payload(form, with_contact=False))
        with attempt(session):
            organisations.update(session, user, org, data)
    except ValidationError as exc:
        state.add_validation(exc, fields=ORG_FIELDS, default_field="name")
    except AppError as exc:
        state.add_app_error(exc, fields=ORG_FIELDS)
    if state.has_errors:
        state.values["version"] = str(org.version)
        return render(request, "org/organisation_form.html", {"title": "Min organisation", "form": state, "mode": "edit", "org": org},
                      status_code=state.status)
    return redirect("/organisation", flash="org-sparad")


def _case_payload(form: FormData, *, include_department: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": text(form, "title"), "need": text(form, "need"), "target_group": text(form, "target_group"),
        "planned_activities": text(form, "planned_activities"), "own_contribution_sek": amount(form, "own_contribution_sek"),
        "own_contribution_in_kind": text(form, "own_contribution_in_kind"), "volunteer_hours": amount(form, "volunteer_hours"),
        "requested_amount_sek": amount(form, "requested_amount_sek"), "period_start": optional(form, "period_start"),
        "period_end": optional(form, "period_end"),
    }
    if include_department:
        raw = text(form, "department_id")
        data["department_id"] = int(raw) if digits(raw) else 0
    return data


def _proposal_context(session: DbSession, state: FormState, *, case: Case | None) -> dict[str, Any]:
    departments = list(session.scalars(select(Department).order_by(Department.name)))
    title = "Nytt förslag om partnerskap" if case is None else f"Redigera förslag: {case.title}"
    return {"title": title, "form": state, "case": case, "department_options": [(d.id, d.name) for d in departments]}


@router.get("/forslag/nytt")
def new_proposal(request: Request, user: WebUser, session: DbSession) -> Response:
    """The proposal form with help texts about IOP."""
    require_role(user, Role.ORG_MEMBER)
    if not user.organisation_id:
        return redirect("/organisation/registrera")
    return render(request, "org/proposal_form.html", _proposal_context(session, FormState(prefix="case"), case=None))


@router.post("/forslag/nytt")
def create_proposal(request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Save the proposal as a draft."""
    require_role(user, Role.ORG_MEMBER)
    state = FormState.from_form(form, prefix="case", labels=CASE_LABELS)
    case: Case | None = None
    try:
        if not digits(text(form, "department_id")):
            # Checked first so the message names the choice rather than a number format.
            state.add("department_id", "Välj den förvaltning som förslaget gäller.")
        data = CaseCreate.model_validate(_case_payload(form, include_department=True))
        if not state.has_errors:
            with attempt(session):
                case = cases.create(session, user, data)
    except ValidationError as exc:
        state.add_validation(exc, fields=CASE_FIELDS, aliases=CASE_ALIASES, default_field="period_end")
    except AppError as exc:
        state.add_app_error(exc, fields=CASE_FIELDS, aliases=CASE_ALIASES)
    if state.has_errors or case is None:
        return render(request, "org/proposal_form.html", _proposal_context(session, state, case=None), status_code=state.status)
    return redirect(f"/arenden/{case.id}", flash="forslag-skapat")


@router.get("/arenden/{case_id}/redigera")
def edit_proposal(case_id: Id, request: Request, user: WebUser, session: DbSession) -> Response:
    """The proposal form filled with the case's content."""
    case = get_visible_case(session, user, case_id)
    cases.ensure_editable(session, user, case)
    return render(request, "org/proposal_form.html", _proposal_context(session, FormState(values=_proposal_values(case), prefix="case"), case=case))


def _proposal_values(case: Case) -> dict[str, Any]:
    values = {f: ("" if getattr(case, f) is None else str(getattr(case, f))) for f in CASE_FIELDS}
    for f in ("own_contribution_sek", "requested_amount_sek"):
        values[f] = f"{getattr(case, f):,}".replace(",", " ")
    values["version"] = str(case.version)
    return values


@router.post("/arenden/{case_id}/redigera")
def save_proposal(case_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Save changes under the optimistic lock (the version the form was opened with)."""
    case = get_visible_case(session, user, case_id)
    state = FormState.from_form(form, prefix="case", labels=CASE_LABELS)
    try:
        data = CasePatch.model_validate(_case_payload(form, include_department=False))
        with attempt(session):
            cases.update_content(session, user, case, data, expected_version(form))
    except ValidationError as exc:
        state.add_validation(exc, fields=CASE_FIELDS, aliases=CASE_ALIASES, default_field="period_end")
    except StaleVersion:
        session.refresh(case)
        # The user's text stays, the other person's is shown beside it; saving again as it is does not overwrite it.
        state.conflict(_proposal_values(case), case.version)
    except AppError as exc:
        state.add_app_error(exc, fields=CASE_FIELDS, aliases=CASE_ALIASES)
    if state.has_errors:
        state.values["department_id"] = str(case.department_id)
        return render(request, "org/proposal_form.html", _proposal_context(session, state, case=case), status_code=state.status)
    return redirect(f"/arenden/{case.id}", flash="forslag-sparat")
