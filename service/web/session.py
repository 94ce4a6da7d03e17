"""Browser session (JWT in a secure HttpOnly cookie) and signed double-submit CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

import jwt
from fastapi import Request, Response
from sqlalchemy.orm import Session

from service.auth.models import User
from service.auth.security import create_token, decode_token
from service.config import Settings
from service.errors import AppError, Unauthorized

# __Host- cookies must be Secure, Path=/ and have no Domain: a sibling subdomain cannot plant or
# overwrite them, which is what makes the double-submit CSRF check trustworthy.
SESSION_COOKIE = "__Host-iop_session"
CSRF_COOKIE = "__Host-iop_csrf"
FLASH_COOKIE = "__Host-iop_flash"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """Raised by page dependencies when no valid session cookie is present."""

    def __init__(self, next_url: str = "/") -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfFailed(AppError):
    """The form's CSRF token or origin did not check out."""

    status_code = 403
    code = "csrf-failed"
    title = "Formuläret kunde inte skickas / CSRF check failed"


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    """Set a hardened cookie: Secure, HttpOnly, SameSite=Lax, host-only."""
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax")


def delete_cookie(response: Response, name: str) -> None:
    """Expire a cookie set by set_cookie."""
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="lax")


def start_session(response: Response, user: User, settings: Settings, sso_session: int | None = None) -> None:
    """Issue a token for the user (naming the provider session it was started through) and store it in the session cookie."""
    token, lifetime = create_token(user.id, user.role, settings, user.token_generation, sso_session)
    set_cookie(response, SESSION_COOKIE, token, max_age=lifetime)


def end_session(response: Response) -> None:
    """Forget the session (the stateless token simply stops being sent)."""
    delete_cookie(response, SESSION_COOKIE)


def current_web_user(request: Request, session: Session, settings: Settings) -> User | None:
    """The active user of the session cookie, or None; marks the token for renewal past half-life."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        subject = decode_token(token, settings)
    except Unauthorized:
        return None
    user = session.get(User, subject.user_id)
    # A session from before a password change, reset or reactivation carries an older generation: logged out.
    if user is None or not user.is_active or user.token_generation != subject.generation:
        return None
    if subject.sso_session is not None:
        from service.auth.oidc.flow import active_session

        # Logged out here or at the provider (back-channel), or past the provider session's lifetime: logged out.
        if not active_session(session, subject.sso_session, user):
            return None
        request.state.sso_session = subject.sso_session
    # The signature was verified above; reading iat unverified is only for sliding renewal.
    issued = jwt.decode(token, options={"verify_signature": False}).get("iat", 0)
    age = datetime.now(UTC).timestamp() - float(issued)
    if age > settings.token_minutes * 30:
        request.state.renew_session = True
    request.state.user = user
    if request.method == "GET":  # pages show the unread count in the menu
        from service.notifications.service import unread_count

        request.state.unread = unread_count(session, user)
    return user


def _sign(raw: str, settings: Settings) -> str:
    return hmac.new(settings.secret_key.encode(), f"csrf:{raw}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request, settings: Settings) -> str:
    """The form token for this browser; creates the random cookie half on first use."""
    raw = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not raw:
        raw = secrets.token_urlsafe(32)
        request.state.new_csrf = raw
    return _sign(raw, settings)


def verify_csrf(request: Request, submitted: str | None, settings: Settings) -> None:
    """Reject cross-site posts: same-origin check plus HMAC(cookie) == form field."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfFailed("Formuläret skickades från en annan webbplats / cross-site form post")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        if urlsplit(origin).netloc != request.headers.get("host", ""):
            raise CsrfFailed("Formuläret skickades från en annan webbplats / cross-origin form post")
    raw = request.cookies.get(CSRF_COOKIE)
    if not raw or not submitted or not hmac.compare_digest(_sign(raw, settings), submitted):
        raise CsrfFailed("Formuläret har gått ut. Ladda om sidan och försök igen. / CSRF token missing or invalid")
