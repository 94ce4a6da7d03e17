"""The one login check, for the API's token endpoint and the web's login form.

Throttling is checked before the password, so a locked key costs no argon2 work and cannot
confirm a guess (429). An unknown e-mail is verified against a real hash, so it takes as long
as a wrong password. Wrong e-mail, wrong password, a deactivated account and a self-registered
account whose e-mail is not confirmed yet all answer the same 401 (otherwise registering an address
and logging in would tell whether it had an account before); only a successful login resets the failure count of that e-mail and address (never
the address's budget across accounts, see service.auth.ratelimit). The client address is the
caller's service.auth.ratelimit.client_address (X-Forwarded-For only from trusted proxies).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.auth.ratelimit import LoginLimiter
from service.auth.security import hash_password, verify_password
from service.errors import Unauthorized

_DUMMY_HASH = hash_password("timing-equaliser")
WRONG_LOGIN = "Fel e-postadress eller lösenord / Wrong e-mail or password"


def authenticate(session: Session, limiter: LoginLimiter, email: str, password: str, client: str | None) -> User:
    """The active user with this e-mail and password; 429 when throttled, 401 otherwise."""
    email = email.strip().lower()
    limiter.check(email, client)
    user = session.scalar(select(User).where(User.email == email))
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if not ok or user is None or not user.is_active or user.email_confirmed_at is None:
        limiter.failed(email, client)
        raise Unauthorized(WRONG_LOGIN)
    limiter.succeeded(email, client)
    return user
