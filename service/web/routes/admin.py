"""The administrator's pages: accounts (create, deactivate, reactivate) and the departments' deadlines."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import users
from service.auth.models import Role, User
from service.auth.schemas import UserCreate, UserPatch
from service.deadlines.models import DeadlineKind
from service.deadlines.policy import DEFAULTS, policy_for
from service.departments.models import Department
from service.departments.schemas import DeadlinePolicyIn
from service.departments.service import get_department, set_deadline_policy
from service.deps import DbSession
from service.errors import AppError
from service.organisations.models import Organisation
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, attempt, digits, optional, require_role, text, web_router, whole
from service.web.forms import FormState, translate
from service.labels import DEADLINE_KINDS, ROLES
from service.web.labels import swedish_part
from service.web.rendering import redirect, render

router = web_router()
CREATE_FIELDS = {"email": "E-postadress", "full_name": "Namn", "title": "Titel", "role": "Roll", "department_id": "Förvaltning",
                 "organisation_id": "Organisation", "password": "Tillfälligt lösenord"}


def _page(request: Request, session: Session, form: FormState | None = None, status_code: int = 200) -> Response:
    accounts = list(session.scalars(select(User).order_by(User.is_active.desc(), User.role, User.full_name)))
    departments = list(session.scalars(select(Department).order_by(Department.name)))
    organisations = list(session.scalars(select(Organisation).order_by(Organisation.name)))
    return render(request, "admin.html", {
        "title": "Systemförvaltning", "accounts": accounts, "form": form or FormState(prefix="ny", labels=CREATE_FIELDS),
        "roles": [(r.value, ROLES[r]) for r in Role], "departments": {d.id: d.name for d in departments},
        "organisations": {o.id: o.name for o in organisations},
        "department_options": [(str(d.id), d.name) for d in departments],
        "organisation_options": [(str(o.id), o.name) for o in organisations],
    }, status_code=status_code)


@router.get("/admin")
def admin_home(request: Request, user: WebUser, session: DbSession) -> Response:
    """Accounts of the service, and how departments and deadlines are configured."""
    require_role(user, Role.ADMIN)
    return _page(request, session)


@router.post("/admin/anvandare")
def create_account(request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Create an account with a temporary password."""
    require_role(user, Role.ADMIN)
    state = FormState.from_form(form, prefix="ny", labels=CREATE_FIELDS)
    try:
        data = UserCreate(email=text(form, "email"), full_name=text(form, "full_name"), title=optional(form, "title"),
                          role=text(form, "role"), password=text(form, "password"),
                          department_id=whole(form, "department_id"), organisation_id=whole(form, "organisation_id"))
        with attempt(session):
            users.create_user(session, user, data)
    except ValidationError as exc:
        state.add_validation(exc, fields=CREATE_FIELDS, default_field="role")
        return _page(request, session, state, 422)
    except AppError as exc:
        state.add_app_error(exc, fields=CREATE_FIELDS)
        return _page(request, session, state, state.status)
    return redirect("/admin#konton", flash="konto-skapat")


@router.post("/admin/anvandare/{user_id}/{action}")
def set_active(user_id: Id, action: str, request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Deactivate (spärra) or reactivate (aktivera) an account; takes effect on its next request."""
    require_role(user, Role.ADMIN)
    if action not in ("sparra", "aktivera"):
        return redirect("/admin#konton")
    state = FormState(prefix="konto")
    try:
        with attempt(session):
            users.update_user(session, user, user_id, UserPatch(is_active=action == "aktivera"))
    except AppError as exc:
        state.add_app_error(exc)
        return _page(request, session, state, state.status)
    return redirect("/admin#konton", flash="konto-sparrat" if action == "sparra" else "konto-aktiverat")


# --------------------------------------------------------------------------- a department's deadlines

UNITS = [("days", "dagar"), ("working_days", "arbetsdagar")]
UNIT_WORDS = dict(UNITS)
ESCALATIONS = [("officer", "Handläggaren"), ("approvers", "Förvaltningens beslutsfattare"), ("manager", "Beslutsfattarens chef"),
               ("officer+approver", "Handläggaren och beslutsfattaren")]
ESCALATION_WORDS = dict(ESCALATIONS)
# The parts of a kind's policy, as form fields "<kind>-<part>" (the unit of a span in "<kind>-<part>_unit").
PARTS = {"due": "Tid till frist", "reminders": "Påminnelser", "escalation": "Eskalering till", "escalation_delay": "Eskalering efter"}


def _span(offset: dict[str, int] | None) -> str:
    """A stored span in words: 10 arbetsdagar, 60 dagar."""
    if not offset:
        return "–"
    unit, value = next(iter(offset.items()))
    return f"{value} {UNIT_WORDS[unit]}"


def _reminders(offsets: list[dict[str, int]]) -> str:
    """Reminder offsets as typed in the form: -3, -1, 0."""
    return ", ".join(str(next(iter(o.values()))) for o in offsets)


def _unit(offsets: dict[str, int] | list[dict[str, int]] | None) -> str:
    """The unit of a stored span or of a list of them (days when there is none)."""
    first = offsets[0] if isinstance(offsets, list) and offsets else offsets
    return next(iter(first)) if isinstance(first, dict) and first else "days"


def _policy_values(dep: Department) -> dict[str, str]:
    """The department's overrides as form values (blank where the default applies; units as they apply)."""
    values: dict[str, str] = {"escalation_email": dep.escalation_email or ""}
    overrides = dep.deadline_settings or {}
    for kind in DeadlineKind:
        pol, default = overrides.get(kind.value, {}), DEFAULTS[kind]
        for part in ("due", "reminders", "escalation_delay"):
            values[f"{kind.value}-{part}_unit"] = _unit(pol.get(part) or default.get(part))
        for part in ("due", "escalation_delay"):
            if part in pol:
                values[f"{kind.value}-{part}"] = str(next(iter(pol[part].values())))
        if "reminders" in pol:
            values[f"{kind.value}-reminders"] = _reminders(pol["reminders"])
        if "escalation" in pol:
            values[f"{kind.value}-escalation"] = pol["escalation"]
    return values


def _policy_page(request: Request, dep: Department, form: FormState, status_code: int = 200) -> Response:
    kinds = []
    for kind in DeadlineKind:
        default, effective = DEFAULTS[kind], policy_for(kind, dep.deadline_settings)
        kinds.append({
            "kind": kind.value, "label": DEADLINE_KINDS[kind], "has_due": "due" in default,
            "default": {"due": _span(default.get("due")),
                        "reminders": f"{_reminders(default['reminders'])} {UNIT_WORDS[_unit(default['reminders'])]}",
                        "escalation": ESCALATION_WORDS[default["escalation"]], "escalation_delay": _span(default.get("escalation_delay"))},
            "effective": {"due": _span(effective.get("due")), "reminders": ", ".join(_span(o) for o in effective["reminders"]) or "inga",
                          "escalation": ESCALATION_WORDS[effective["escalation"]], "escalation_delay": _span(effective.get("escalation_delay"))},
        })
    return render(request, "admin_deadlines.html", {
        "title": f"Tidsfrister – {dep.name}", "department": dep, "kinds": kinds, "form": form, "unit_options": UNITS,
        "escalation_options": ESCALATIONS,
    }, status_code=status_code)


def _labels() -> dict[str, str]:
    labels = {f"{k.value}-{part}": f"{DEADLINE_KINDS[k]}, {label.lower()}"
              for k in DeadlineKind for part, label in PARTS.items()}
    return {**labels, "escalation_email": "E-post för eskaleringar"}


@router.get("/admin/forvaltningar/{department_id}/frister")
def deadline_policy_page(department_id: Id, request: Request, user: WebUser, session: DbSession) -> Response:
    """The department's deadlines: the defaults, what applies now, and a form for its own values."""
    require_role(user, Role.ADMIN)
    dep = get_department(session, department_id)
    return _policy_page(request, dep, FormState(values=_policy_values(dep), prefix="frist", labels=_labels()))


def _offset(raw: str, unit: str) -> dict[str, int | str]:
    """One span from the form; a value that is not a whole number is passed on for validation to name."""
    raw = raw.strip().replace("−", "-")  # a typographic minus, as in "−3"
    return {unit if unit in UNIT_WORDS else "days": int(raw) if digits(raw.removeprefix("-")) else raw}


@router.post("/admin/forvaltningar/{department_id}/frister")
def save_deadline_policy(department_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Save the department's own deadlines; a blank field keeps the default."""
    require_role(user, Role.ADMIN)
    dep = get_department(session, department_id)
    state = FormState.from_form(form, prefix="frist", labels=_labels())
    kinds: dict[str, dict] = {}
    for kind in DeadlineKind:
        pol: dict = {}
        for part in ("due", "escalation_delay"):
            if raw := text(form, f"{kind.value}-{part}"):
                pol[part] = _offset(raw, text(form, f"{kind.value}-{part}_unit"))
        if raw := text(form, f"{kind.value}-reminders"):
            unit = text(form, f"{kind.value}-reminders_unit")
            pol["reminders"] = [_offset(r, unit) for r in raw.replace(";", ",").split(",") if r.strip()]
        if escalation := text(form, f"{kind.value}-escalation"):
            pol["escalation"] = escalation
        if pol:
            kinds[kind.value] = pol
    try:
        data = DeadlinePolicyIn.model_validate({"kinds": kinds, "escalation_email": optional(form, "escalation_email")})
        with attempt(session):
            set_deadline_policy(session, user, dep, data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            # kinds.<kind>.<part>[.<index>][.<unit>] names the form field <kind>-<part>.
            state.add(f"{loc[1]}-{loc[2]}" if loc[0] == "kinds" and len(loc) > 2 else loc[0] if loc else None, translate(err))
        return _policy_page(request, dep, state, 422)
    except AppError as exc:
        for item in exc.errors:
            parts = str(item.get("field", "")).split(".")
            state.add(f"{parts[1]}-{parts[2]}" if len(parts) > 2 else None, swedish_part(str(item.get("message", exc.detail))))
        if not exc.errors:
            state.add_app_error(exc)
        state.status = exc.status_code
        return _policy_page(request, dep, state, state.status)
    return redirect(f"/admin/forvaltningar/{dep.id}/frister", flash="frister-sparade")
