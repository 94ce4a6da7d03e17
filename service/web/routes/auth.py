"""Login, logout, the start page dispatcher and static information pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from service.auth.models import Role, User
from service.auth.ratelimit import LoginLimiter, client_address, get_login_limiter
from service.auth.login import authenticate
from service.deps import AppSettings, DbSession
from service.errors import TooManyRequests, Unauthorized
from service.web.deps import CsrfForm, MaybeUser, text, web_router
from service.web.forms import FormState
from service.web.labels import swedish_part
from service.web.rendering import redirect, render
from service.web.session import end_session, start_session

router = web_router()



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
def logout(request: Request, form: CsrfForm) -> Response:
    """End the session."""
    request.state.logged_out = True
    response = redirect("/logga-in", flash="utloggad")
    end_session(response)
    return response


@router.get("/om-iop")
def about_iop(request: Request, user: MaybeUser) -> Response:
    """What an idéburet offentligt partnerskap is."""
    return render(request, "about_iop.html", {"title": "Om idéburet offentligt partnerskap"})


@router.get("/tillganglighet")
def accessibility(request: Request, user: MaybeUser) -> Response:
    """Tillgänglighetsredogörelse, as public-sector web services must publish."""
    return render(request, "accessibility.html", {"title": "Tillgänglighetsredogörelse"})
