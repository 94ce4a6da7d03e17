"""The web login through a provider (start, finish), its logout and the provider's back-channel logout; the audit of logins.

start() and finish() are the only way a browser logs in through a provider; every outcome of finish() is one audit
event on `oidc:<provider>` (outcome, reason code, account and identity ids; no personal data).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from httpx import HTTPError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.audit.service import record
from service.auth.models import User
from service.auth.oidc import accounts
from service.auth.oidc.models import OidcLogin, OidcSession, UserIdentity
from service.auth.oidc.provider import TokenRefused, client_for
from service.config import Settings
from service.db import utcnow
from service.errors import ServiceUnavailable

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
STATE_FAILED = "Inloggningen kunde inte kopplas till den här webbläsaren, har redan använts eller tog för lång tid / login state invalid"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def redirect_uri(settings: Settings, name: str) -> str:
    """Where the provider sends the browser back (register it at the provider)."""
    return f"{settings.public_base_url.rstrip('/')}/logga-in/oidc/{name}/svar"


def _oauth(settings: Settings, name: str) -> OAuth2Client:
    config = settings.oidc_providers[name]
    return OAuth2Client(client_id=config.client_id, client_secret=config.client_secret, scope=" ".join(config.scopes),
                        redirect_uri=redirect_uri(settings, name), code_challenge_method="S256",
                        token_endpoint_auth_method="client_secret_basic" if config.client_secret else "none",
                        timeout=settings.oidc_http_timeout_seconds)


def start(session: Session, settings: Settings, name: str, next_path: str) -> tuple[str, str]:
    """The provider's authorization address for a new login, and the state the browser's cookie must bring back."""
    client = client_for(settings, name)
    meta = client.metadata()
    now = utcnow()
    # Logins never finished, and provider sessions a day past their end, are of no use: removed here rather than by a
    # scheduled job (a web token naming a removed session is simply logged out).
    session.execute(delete(OidcLogin).where(OidcLogin.expires_at < now - timedelta(hours=1)))
    session.execute(delete(OidcSession).where(OidcSession.expires_at < now - timedelta(days=1)))
    session.execute(delete(OidcSession).where(OidcSession.ended_at < now - timedelta(days=1)))
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    session.add(OidcLogin(state_hash=_digest(state), provider=name, nonce=nonce, code_verifier=verifier, next_path=next_path[:500],
                          expires_at=now + timedelta(minutes=settings.oidc_login_minutes)))
    session.flush()
    with _oauth(settings, name) as oauth:
        url, _ = oauth.create_authorization_url(meta.authorization_endpoint, state=state, nonce=nonce, code_verifier=verifier)
    return url, state


def _audit(session: Session, name: str, outcome: str, reason: str | None = None, user: User | None = None,
           identity: UserIdentity | None = None) -> None:
    after: dict[str, Any] = {"provider": name, "outcome": outcome}
    if reason:
        after["reason"] = reason
    if user is not None:
        after["user_id"] = user.id
    if identity is not None:
        after["identity_id"] = identity.id
    record(session, actor=user, action=f"auth.oidc_login_{outcome}", stream=f"oidc:{name}", after=after)


def _claim_login(session: Session, name: str, params: dict[str, str], cookie_state: str | None) -> OidcLogin:
    """The login this answer belongs to, used up now; TokenRefused('state') for any mismatch."""
    state = params.get("state") or ""
    if not state or not cookie_state or not hmac.compare_digest(state, cookie_state):
        raise TokenRefused("state", STATE_FAILED)
    login = session.scalar(select(OidcLogin).where(OidcLogin.state_hash == _digest(state)).with_for_update())
    if login is None or login.provider != name or login.used_at is not None or login.expires_at <= utcnow():
        raise TokenRefused("state", STATE_FAILED)
    login.used_at = utcnow()
    session.flush()
    return login


def finish(session: Session, settings: Settings, name: str, params: dict[str, str], cookie_state: str | None) -> tuple[User, OidcSession, str]:
    """The account, its new provider session and where to go, for the provider's answer; TokenRefused (audited) otherwise.

    The used-up login and the audit event stay whatever happens; the account work runs in a savepoint so a refusal
    leaves no account, identity or session behind.
    """
    client = client_for(settings, name)
    config = client.config
    try:
        login = _claim_login(session, name, params, cookie_state)
        if params.get("iss") and params["iss"] != config.issuer:
            raise TokenRefused("issuer")  # RFC 9207: an answer another provider sent (mix-up), whatever else it carries
        if params.get("error"):
            raise TokenRefused("provider_error", "Inloggningen avbröts hos identitetsleverantören / the provider refused the login")
        meta = client.metadata()
        try:
            with _oauth(settings, name) as oauth:
                token = oauth.fetch_token(meta.token_endpoint, code=params.get("code", ""), code_verifier=login.code_verifier,
                                          grant_type="authorization_code")
        except (OAuthError, HTTPError, ValueError) as exc:
            raise TokenRefused("code_exchange", "Identitetsleverantören godtog inte inloggningen / the code was refused") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRefused("no_id_token")
        claims = client.verify(id_token, audience=config.client_id, nonce=login.nonce)
        with session.begin_nested():
            user, identity = accounts.resolve(session, name, config, claims)
            sso = OidcSession(user_id=user.id, provider=name, provider_sid=str(claims["sid"])[:255] if claims.get("sid") else None,
                              id_token=id_token, expires_at=utcnow() + timedelta(hours=config.session_hours))
            session.add(sso)
            session.flush()
    except TokenRefused as exc:
        _audit(session, name, "failed", exc.reason)
        raise
    _audit(session, name, "succeeded", user=user, identity=identity)
    return user, sso, login.next_path


def active_session(session: Session, session_id: int, user: User) -> bool:
    """Whether a web session started through a provider is still on (not logged out, not past its lifetime)."""
    sso = session.get(OidcSession, session_id)
    return sso is not None and sso.user_id == user.id and sso.ended_at is None and sso.expires_at > utcnow()


def logout(session: Session, settings: Settings, session_id: int | None) -> str | None:
    """End the provider session of this web session; the provider's logout address to send the browser to, if any."""
    sso = session.get(OidcSession, session_id) if session_id else None
    if sso is None or sso.ended_at is not None:
        return None
    id_token, sso.ended_at, sso.id_token = sso.id_token, utcnow(), None
    session.flush()
    config = settings.oidc_providers.get(sso.provider)
    if config is None or not config.logout_at_provider:
        return None
    try:
        meta = client_for(settings, sso.provider).metadata()
    except ServiceUnavailable:
        return None  # the session here has ended all the same; the provider's may outlive it
    if not meta.end_session_endpoint:
        return None
    # OpenID Connect RP-Initiated Logout 1.0: the ID token as hint, and where to come back (registered at the provider).
    query = urlencode({"id_token_hint": id_token, "client_id": config.client_id,
                       "post_logout_redirect_uri": f"{settings.public_base_url.rstrip('/')}/logga-in"})
    return f"{meta.end_session_endpoint}{'&' if '?' in meta.end_session_endpoint else '?'}{query}"


def backchannel_logout(session: Session, settings: Settings, name: str, logout_token: str) -> int:
    """End the sessions a provider's logout token names (OpenID Connect Back-Channel Logout 1.0); how many ended."""
    client = client_for(settings, name)
    # A logout token names the session (sid), the person (sub) or both; it carries no nonce.
    claims = client.verify(logout_token, audience=client.config.client_id, require_sub=False)
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events or "nonce" in claims or not (claims.get("sid") or claims.get("sub")):
        raise TokenRefused("logout_token")
    stmt = update(OidcSession).where(OidcSession.provider == name, OidcSession.ended_at.is_(None))
    if claims.get("sid"):
        stmt = stmt.where(OidcSession.provider_sid == str(claims["sid"]))
    else:
        identity = session.scalar(select(UserIdentity).where(UserIdentity.provider == name, UserIdentity.subject == str(claims["sub"])))
        if identity is None:
            return 0
        stmt = stmt.where(OidcSession.user_id == identity.user_id)
    ended = session.execute(stmt.values(ended_at=utcnow(), id_token=None)).rowcount
    record(session, actor=None, action="auth.oidc_logout", stream=f"oidc:{name}", after={"provider": name, "sessions_ended": ended,
                                                                                        "channel": "backchannel"})
    return ended

