"""Login, logout, password change and reset, confirming self-registered organisations, the start page dispatcher and
static information pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from service.auth import credentials
from service.auth.login import authenticate
from service.auth.oidc import flow as sso
from service.auth.models import Role, User
from service.auth.ratelimit import AttemptLimiter, LoginLimiter, client_address, get_login_limiter, get_reset_limiter
from service.deps import AppSettings, DbSession
from service.organisations import service as organisations
from service.organisations.models import Organisation
from service.schemas import Id
from service.errors import AppError, TooManyRequests, Unauthorized
from service.web.deps import CsrfForm, MaybeUser, WebUser, attempt, require_role, text, web_router
from service.web.forms import FormState
from service.web.labels import swedish_part
from service.web.rendering import redirect, render
from service.web.session import end_session, start_session

router = web_router()
PASSWORD_LABELS = {"current_password": "Nuvarande lösenord", "new_password": "Nytt lösenord", "repeat": "Nytt lösenord igen",
                   "email": "E-postadress", "token": "Länken"}


def _safe_next(value: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def home_for(user: User) -> str:
    """Where a role starts."""
    if user.role == Role.ORG_MEMBER:
        return "/start"
    if user.role in (Role.OFFICER, Role.APPROVER):
        return "/arbetsko"
    if user.role == Role.REGISTRAR:
        return "/arenden"
    return "/admin"


@router.get("/")
def root(user: MaybeUser) -> Response:
    """Send the visitor to the login page or to their role's start page."""
    return redirect("/logga-in" if user is None else home_for(user))


@router.get("/logga-in")
def login_page(request: Request, user: MaybeUser, nasta: str | None = None) -> Response:
    """The login form."""
    if user is not None:
        return redirect(_safe_next(nasta) if nasta else home_for(user))
    return render(request, "login.html", {"title": "Logga in", "form": FormState(values={"nasta": _safe_next(nasta)}, prefix="login")})


@router.post("/logga-in")
def login(request: Request, form: CsrfForm, session: DbSession, settings: AppSettings,
          limiter: Annotated[LoginLimiter, Depends(get_login_limiter)]) -> Response:
    """Check e-mail and password (argon2) and start a cookie session (throttled together with the API's login)."""
    state = FormState.from_form(form, prefix="login")
    state.values.pop("password", None)  # a password is never echoed back into the page
    email, password = text(form, "email").lower(), str(form.get("password") or "")
    if not email:
        state.add("email", "Ange din e-postadress.")
    if not password:
        state.add("password", "Ange ditt lösenord.")
    if state.has_errors:
        return render(request, "login.html", {"title": "Logga in", "form": state}, status_code=422)
    try:
        user = authenticate(session, limiter, email, password, client_address(request, settings))
    except TooManyRequests as exc:
        state.general.append(swedish_part(exc.detail))
        response = render(request, "login.html", {"title": "Logga in", "form": state}, status_code=429)
        response.headers["Retry-After"] = exc.headers["Retry-After"]
        return response
    except Unauthorized as exc:
        state.general.append(swedish_part(exc.detail) + ".")
        return render(request, "login.html", {"title": "Logga in", "form": state}, status_code=401)
    target = _safe_next(text(form, "nasta"))
    response = redirect(home_for(user) if target == "/" else target, flash="inloggad")
    start_session(response, user, settings)
    return response


@router.post("/logga-ut")
def logout(request: Request, form: CsrfForm, user: MaybeUser, session: DbSession, settings: AppSettings) -> Response:
    """End the session; one started through a single sign-on provider ends there too (RP-initiated logout)."""
    request.state.logged_out = True
    at_provider = sso.logout(session, settings, getattr(request.state, "sso_session", None)) if user is not None else None
    response = redirect(at_provider or "/logga-in", flash="utloggad")
    end_session(response)
    return response


def _new_password(form: CsrfForm, state: FormState) -> str:
    """The new password, typed twice the same (checked against the rule by the service)."""
    new = str(form.get("new_password") or "")
    if not new:
        state.add("new_password", "Ange ett nytt lösenord.")
    elif not 10 <= len(new) <= 256:  # the API schema's bounds (the upper one keeps argon2 cheap)
        state.add("new_password", "Lösenordet ska vara mellan 10 och 256 tecken långt.")
    elif new != str(form.get("repeat") or ""):
        state.add("repeat", "Lösenorden är inte likadana. Skriv samma nya lösenord två gånger.")
    return new


def _without_secrets(state: FormState) -> FormState:
    for name in ("current_password", "new_password", "repeat"):
        state.values.pop(name, None)  # a password is never echoed back into the page
    return state


@router.get("/konto/losenord")
def password_page(request: Request, user: WebUser) -> Response:
    """Form to change one's own password."""
    return render(request, "password_change.html", {"title": "Byt lösenord", "form": FormState(prefix="pw", labels=PASSWORD_LABELS)})


@router.post("/konto/losenord")
def password_change(request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings,
                    limiter: Annotated[LoginLimiter, Depends(get_login_limiter)]) -> Response:
    """Change the password (the API's rule and throttle); other browsers and tokens are logged out, this one gets a new session."""
    state = _without_secrets(FormState.from_form(form, prefix="pw", labels=PASSWORD_LABELS))
    current, new = str(form.get("current_password") or ""), _new_password(form, state)
    if not current:
        state.add("current_password", "Ange ditt nuvarande lösenord.")
    if not state.has_errors:
        try:
            with attempt(session):
                credentials.change_password(session, limiter, user, current, new, client_address(request, settings))
        except AppError as exc:
            state.add_app_error(exc, fields=("current_password", "new_password", "repeat"))
    if state.has_errors:
        return render(request, "password_change.html", {"title": "Byt lösenord", "form": state}, status_code=state.status)
    response = render(request, "password_done.html", {"title": "Lösenordet är bytt", "changed": True})
    start_session(response, user, settings)
    return response


@router.get("/glomt-losenord")
def forgot_page(request: Request, user: MaybeUser) -> Response:
    """Form to ask for a reset link by e-mail."""
    return render(request, "password_forgot.html", {"title": "Glömt lösenordet", "form": FormState(prefix="pw", labels=PASSWORD_LABELS)})


@router.post("/glomt-losenord")
def forgot(request: Request, user: MaybeUser, form: CsrfForm, session: DbSession, settings: AppSettings,
           limiter: Annotated[AttemptLimiter, Depends(get_reset_limiter)]) -> Response:
    """Queue the reset e-mail (the API's function); the page says the same whether or not the address has an account."""
    state = FormState.from_form(form, prefix="pw", labels=PASSWORD_LABELS)
    email = text(form, "email")
    if "@" not in email or len(email) > 254:
        state.add("email", "Ange din e-postadress, till exempel namn@exempel.se.")
        return render(request, "password_forgot.html", {"title": "Glömt lösenordet", "form": state}, status_code=422)
    try:
        limiter.hit(client_address(request, settings))
    except TooManyRequests as exc:
        state.general.append(swedish_part(exc.detail))
        response = render(request, "password_forgot.html", {"title": "Glömt lösenordet", "form": state}, status_code=429)
        response.headers["Retry-After"] = exc.headers["Retry-After"]
        return response
    credentials.request_reset(session, email, settings)
    return render(request, "password_done.html", {"title": "Kontrollera din e-post", "requested": True})


@router.get("/aterstall-losenord")
def reset_page(request: Request, user: MaybeUser, token: str = "") -> Response:
    """Form to choose a new password, opened from the e-mailed link."""
    state = FormState(values={"token": token}, prefix="pw", labels=PASSWORD_LABELS)
    return render(request, "password_reset.html", {"title": "Välj nytt lösenord", "form": state})


@router.post("/aterstall-losenord")
def reset(request: Request, user: MaybeUser, form: CsrfForm, session: DbSession) -> Response:
    """Set the new password with the link's token (the API's function); every older session is logged out."""
    state = _without_secrets(FormState.from_form(form, prefix="pw", labels=PASSWORD_LABELS))
    token, new = text(form, "token"), _new_password(form, state)
    if not state.has_errors:
        try:
            with attempt(session):
                credentials.confirm_reset(session, token, new)
        except AppError as exc:
            state.add_app_error(exc, fields=("new_password", "repeat"))  # a bad link is said above the form
    if state.has_errors:
        return render(request, "password_reset.html", {"title": "Välj nytt lösenord", "form": state}, status_code=state.status)
    request.state.logged_out = True  # no renewal of a session this browser may still hold
    response = render(request, "password_done.html", {"title": "Lösenordet är ändrat", "reset": True})
    end_session(response)  # whoever was logged in in this browser logs in again, with the new password
    return response


@router.get("/bekrafta-konto")
def confirm_page(request: Request, user: MaybeUser, token: str = "") -> Response:
    """The welcome e-mail's link: a button that confirms the address (a GET changes nothing, so link scanners cannot)."""
    return render(request, "account_confirm.html", {"title": "Bekräfta din e-postadress",
                                                    "form": FormState(values={"token": token}, prefix="pw")})


@router.post("/bekrafta-konto")
def confirm(request: Request, user: MaybeUser, form: CsrfForm, session: DbSession) -> Response:
    """Confirm the address (the API's function); the account may log in from then on."""
    state = FormState.from_form(form, prefix="pw")
    try:
        with attempt(session):
            credentials.confirm_email(session, text(form, "token"))
    except AppError as exc:
        state.add_app_error(exc)
        return render(request, "account_confirm.html", {"title": "Bekräfta din e-postadress", "form": state}, status_code=state.status)
    return render(request, "password_done.html", {"title": "E-postadressen är bekräftad", "confirmed": True})


def _unverified_page(request: Request, session: DbSession, *, done: Organisation | None = None) -> Response:
    pending = list(session.scalars(select(Organisation).where(Organisation.verified_at.is_(None)).order_by(Organisation.created_at, Organisation.id)))
    members = {o.id: list(session.scalars(select(User).where(User.organisation_id == o.id).order_by(User.id))) for o in pending}
    return render(request, "organisations_unverified.html", {"title": "Organisationer att bekräfta", "pending": pending,
                                                             "members": members, "done": done})


@router.get("/organisationer/att-bekrafta")
def unverified_organisations(request: Request, user: WebUser, session: DbSession) -> Response:
    """Self-registered organisations waiting for the municipality's confirmation (officers, registrars, admins)."""
    require_role(user, *organisations.VERIFIERS)
    return _unverified_page(request, session)


@router.post("/organisationer/{org_id}/bekrafta")
def verify_organisation(org_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession, settings: AppSettings) -> Response:
    """Confirm one organisation (the API's function: audited, its members e-mailed)."""
    require_role(user, *organisations.VERIFIERS)
    org = organisations.verify(session, user, organisations.get_visible(session, user, org_id), settings.public_base_url)
    return _unverified_page(request, session, done=org)


@router.get("/om-iop")
def about_iop(request: Request, user: MaybeUser) -> Response:
    """What an idéburet offentligt partnerskap is."""
    return render(request, "about_iop.html", {"title": "Om idéburet offentligt partnerskap"})


@router.get("/tillganglighet")
def accessibility(request: Request, user: MaybeUser) -> Response:
    """Tillgänglighetsredogörelse, as public-sector web services must publish."""
    return render(request, "accessibility.html", {"title": "Tillgänglighetsredogörelse"})
