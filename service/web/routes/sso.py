"""Single sign-on on the web: the login page's provider buttons start a login, the provider's answer finishes it
(service.auth.oidc.flow); members invite people into their organisation."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from service.auth.oidc import flow
from service.auth.oidc.provider import TokenRefused, client_for
from service.auth.models import Role
from service.auth.ratelimit import AttemptLimiter, client_address, make_window
from service.config import get_settings
from service.deps import AppSettings, DbSession
from service.errors import AppError
from service.schemas import Id
from service.organisations import invitations
from service.organisations import service as organisations
from service.organisations.models import Organisation
from service.web.deps import CsrfForm, WebUser, attempt, require_role, text, web_router
from service.web.forms import FormState
from service.web.rendering import redirect, render
from service.web.session import delete_cookie, set_cookie, start_session

router = web_router()
# The state of the login under way, bound to this browser (SameSite=Lax: the provider's redirect back is a top-level GET).
STATE_COOKIE = "__Host-iop_sso_state"

# What a refused login tells the person, by the audit's reason code: enough to know what to do, nothing an attacker learns from.
REFUSALS: dict[str, tuple[str, str]] = {
    "no_role": ("Du har ingen behörighet i tjänsten",
                "Ditt konto hos kommunen är inte kopplat till någon roll i IOP Partnerskap. Be systemförvaltaren att lägga till dig "
                "i rätt grupp, och logga sedan in igen."),
    "no_department": ("Du har ingen behörighet i tjänsten",
                      "Ditt konto hos kommunen är inte kopplat till någon förvaltning i IOP Partnerskap. Be systemförvaltaren om hjälp."),
    "not_invited": ("Du har inget konto i tjänsten",
                    "Vi hittade ingen inbjudan till din e-postadress. Be din organisation eller kommunens handläggare att bjuda in "
                    "dig, och logga sedan in igen med samma e-postadress."),
    "no_email": ("Du har inget konto i tjänsten", "Identitetsleverantören lämnade ingen e-postadress, så vi kan inte koppla dig till ett konto."),
    "email_unverified": ("Du har inget konto i tjänsten",
                         "Identitetsleverantören har inte bekräftat din e-postadress, så vi kan inte koppla dig till ett konto."),
    "account_conflict": ("Du har inget konto i tjänsten",
                         "E-postadressen hör till ett annat slags konto i tjänsten. Kontakta systemförvaltaren."),
    "inactive": ("Kontot är spärrat", "Ditt konto i IOP Partnerskap är spärrat. Kontakta systemförvaltaren."),
    "state": ("Inloggningen gick inte att slutföra",
              "Inloggningen hörde inte till den här webbläsaren, hade redan använts eller tog för lång tid. Börja om från inloggningssidan."),
    "provider_error": ("Inloggningen avbröts", "Inloggningen avbröts hos identitetsleverantören. Du kan försöka igen."),
}
INVALID = ("Inloggningen gick inte att slutföra",
           "Svaret från identitetsleverantören kunde inte godkännas, så du är inte inloggad. Börja om från inloggningssidan; "
           "kontakta systemförvaltaren om det händer igen.")


@lru_cache
def get_start_limiter() -> AttemptLimiter:
    """Logins started per client address (each stores a pending login until it expires; a dependency, tests replace it)."""
    s = get_settings()
    return AttemptLimiter(s.oidc_max_starts, s.oidc_starts_window_seconds, what=("inloggningar", "logins"),
                          window=make_window(s, s.oidc_starts_window_seconds, "oidc-start"))


@router.post("/logga-in/oidc/{provider}")
def start(provider: str, request: Request, form: CsrfForm, session: DbSession, settings: AppSettings,
          limiter: Annotated[AttemptLimiter, Depends(get_start_limiter)]) -> Response:
    """Send the browser to the provider with a new login (state, nonce and PKCE challenge); 429 page when a client
    starts too many."""
    from service.web.routes.auth import _safe_next

    client_for(settings, provider)  # 404 for a name not configured
    limiter.hit(client_address(request, settings))
    url, state = flow.start(session, settings, provider, _safe_next(text(form, "nasta")))
    response = redirect(url)
    set_cookie(response, STATE_COOKIE, state, max_age=settings.oidc_login_minutes * 60)
    return response


@router.get("/logga-in/oidc/{provider}/svar")
def finish(provider: str, request: Request, session: DbSession, settings: AppSettings) -> Response:
    """The provider's answer: a session on success; otherwise a page saying why, no session (both audited)."""
    from service.web.routes.auth import home_for

    client_for(settings, provider)
    params = {k: v for k, v in request.query_params.items() if k in ("code", "state", "iss", "error", "error_description")}
    request.state.logged_out = True  # whoever was logged in in this browser before is not renewed on this answer
    try:
        user, sso, next_path = flow.finish(session, settings, provider, params, request.cookies.get(STATE_COOKIE))
    except TokenRefused as exc:
        heading, text_ = REFUSALS.get(exc.reason, INVALID)
        response = render(request, "sso_error.html", {"title": heading, "heading": heading, "detail": text_},
                          status_code=403 if exc.reason in ("no_role", "no_department", "not_invited", "inactive", "account_conflict") else 401)
        delete_cookie(response, STATE_COOKIE)
        from service.web.session import end_session

        end_session(response)
        return response
    response = redirect(home_for(user) if next_path == "/" else next_path, flash="inloggad")
    delete_cookie(response, STATE_COOKIE)
    start_session(response, user, settings, sso.id)
    return response


# ---------------------------------------------------------------------- invitations (members of an organisation)

LABELS = {"email": "E-postadress"}


def _invitations_page(request: Request, session: DbSession, user: WebUser, org: Organisation, state: FormState, *,
                      done: str | None = None, status_code: int = 200) -> Response:
    action = "/organisation/inbjudningar" if user.role == Role.ORG_MEMBER else f"/organisationer/{org.id}/inbjudningar"
    return render(request, "org/invitations.html", {"title": "Bjud in medlemmar", "org": org, "rows": invitations.listing(session, user, org.id),
                                                    "form": state, "done": done, "action": action, "is_open": invitations.is_open},
                  status_code=status_code)


def _invite(request: Request, user: WebUser, form: CsrfForm, session: DbSession, org: Organisation) -> Response:
    state = FormState.from_form(form, prefix="inv", labels=LABELS)
    try:
        with attempt(session):
            inv = invitations.invite(session, user, org.id, text(form, "email"))
    except AppError as exc:
        state.add_app_error(exc, fields=("email",))
        return _invitations_page(request, session, user, org, state, status_code=state.status)
    return _invitations_page(request, session, user, org, FormState(prefix="inv", labels=LABELS), done=inv.email)


@router.get("/organisation/inbjudningar")
def invitations_page(request: Request, user: WebUser, session: DbSession) -> Response:
    """The organisation's invitations and a form to invite an e-mail address (members with an organisation)."""
    require_role(user, Role.ORG_MEMBER)
    if user.organisation_id is None:
        return redirect("/organisation/registrera")
    return _invitations_page(request, session, user, session.get(Organisation, user.organisation_id), FormState(prefix="inv", labels=LABELS))


@router.post("/organisation/inbjudningar")
def invite(request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Invite an address (the API's function); the person joins at their first login through the organisations' provider."""
    require_role(user, Role.ORG_MEMBER)
    if user.organisation_id is None:
        return redirect("/organisation/registrera")
    return _invite(request, user, form, session, session.get(Organisation, user.organisation_id))


@router.get("/organisationer/{org_id}/inbjudningar")
def staff_invitations_page(org_id: Id, request: Request, user: WebUser, session: DbSession) -> Response:
    """An organisation's invitations and the form, for the municipality's officers, registrars and administrators."""
    require_role(user, *invitations.INVITERS)
    return _invitations_page(request, session, user, organisations.get_visible(session, user, org_id), FormState(prefix="inv", labels=LABELS))


@router.post("/organisationer/{org_id}/inbjudningar")
def staff_invite(org_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Invite an address into the organisation (the API's function), as an officer, registrar or administrator."""
    require_role(user, *invitations.INVITERS)
    return _invite(request, user, form, session, organisations.get_visible(session, user, org_id))
