"""The administrator's pages: accounts (create, deactivate, reactivate) and where the rest is configured."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import users
from service.auth.models import Role, User
from service.auth.schemas import UserCreate, UserPatch
from service.departments.models import Department
from service.deps import DbSession
from service.errors import AppError
from service.organisations.models import Organisation
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, attempt, optional, require_role, text, web_router, whole
from service.web.forms import FormState
from service.web.labels import ROLE_LABELS
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
        "roles": [(r.value, ROLE_LABELS[r]) for r in Role], "departments": {d.id: d.name for d in departments},
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
