"""Sign-up of a new organisation and its first member, without an account (the API's POST /auth/register on the web)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.auth.ratelimit import AttemptLimiter, client_address, get_register_limiter
from service.deps import AppSettings, DbSession
from service.errors import AppError, TooManyRequests
from service.organisations import service as organisations
from service.organisations.schemas import RegistrationIn
from service.web.deps import CsrfForm, MaybeUser, attempt, optional, text, web_router
from service.web.forms import FormState
from service.web.labels import swedish_part
from service.web.rendering import redirect, render
from service.web.routes.auth import home_for
from service.web.routes.organisation import ORG_FIELDS, ORG_LABELS, _org_payload

router = web_router()

ACCOUNT_FIELDS = ("account_name", "account_title", "account_email", "password", "password2")
FIELDS = ACCOUNT_FIELDS + ORG_FIELDS
LABELS = {**ORG_LABELS, "account_name": "Ditt namn", "account_title": "Din roll", "account_email": "Din e-postadress",
          "password": "Lösenord", "password2": "Lösenordet igen"}
# RegistrationIn's locations as the form's field names (the person's fields would clash with the organisation's).
ALIASES = {"full_name": "account_name", "title": "account_title", "email": "account_email", "password": "password",
           **{f"organisation-{f}": f for f in ORG_FIELDS},
           **{f"organisation-contacts-0-{k}": f"contact_{k}" for k in ("name", "email", "phone", "role")}}
TITLE = "Registrera en ny organisation"


def _page(request: Request, form: FormState, status_code: int = 200) -> Response:
    return render(request, "signup.html", {"title": TITLE, "form": form}, status_code=status_code)


@router.get("/skapa-konto")
def signup_page(request: Request, user: MaybeUser) -> Response:
    """The sign-up form (a logged-in person goes to their start page)."""
    if user is not None:
        return redirect(home_for(user))
    return _page(request, FormState(prefix="signup", labels=LABELS))


@router.post("/skapa-konto")
def signup(request: Request, user: MaybeUser, form: CsrfForm, session: DbSession, settings: AppSettings,
           limiter: Annotated[AttemptLimiter, Depends(get_register_limiter)]) -> Response:
    """Register the organisation (unverified) and its first member (unconfirmed); the same answer for a known e-mail."""
    state = FormState.from_form(form, prefix="signup", labels=LABELS)
    password = str(form.get("password") or "")
    for secret in ("password", "password2"):
        state.values.pop(secret, None)  # a password is never echoed back into the page
    if password != str(form.get("password2") or ""):
        state.add("password2", "Lösenorden är inte lika. Skriv samma lösenord två gånger.")
    payload: dict[str, Any] = {"full_name": text(form, "account_name"), "title": optional(form, "account_title"),
                               "email": text(form, "account_email"), "password": password,
                               "organisation": _org_payload(form, with_contact=True)}
    try:
        data = RegistrationIn.model_validate(payload)
        if not state.has_errors:
            limiter.hit(client_address(request, settings))
            with attempt(session):
                organisations.self_register(session, data, settings)
    except ValidationError as exc:
        state.add_validation(exc, fields=FIELDS, aliases=ALIASES, default_field="name")
    except TooManyRequests as exc:
        state.general.append(swedish_part(exc.detail))
        response = _page(request, state, status_code=429)
        response.headers["Retry-After"] = exc.headers["Retry-After"]
        return response
    except AppError as exc:
        state.add_app_error(exc, fields=FIELDS, aliases=ALIASES)
    if state.has_errors:
        return _page(request, state, status_code=state.status)
    return render(request, "signup_done.html", {"title": "Kontrollera din e-post", "email": data.email})
