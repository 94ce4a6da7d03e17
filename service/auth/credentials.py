"""Changing and resetting a password (API and web share these).

- Every new password passes service.auth.passwords.check_password against the account's own data.
- A new password raises the account's token generation: every API token and web session issued before stops working,
  and every reset link still open is used up. The caller hands out a fresh token.
- A change needs the current password; wrong guesses count against the login throttle of that account and address.
- A reset request answers the same whether or not the address has an account; only an active account gets an
  e-mail. The link's token is drawn when the e-mail is sent (service.auth.effects), single use, expiring after
  `password_reset_minutes`; the database keeps only its SHA-256.
- The audit chain records that a password was changed, reset or a reset asked for, never a password or token.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.audit.service import record
from service.auth.models import PasswordReset, User
from service.auth.passwords import check_password
from service.auth.ratelimit import LoginLimiter
from service.auth.security import hash_password, verify_password
from service.config import Settings
from service.db import utcnow
from service.errors import ValidationFailed
from service.organisations.models import Organisation
from service.outbox.service import emit

RESET_TOPIC = "auth.password_reset"
WRONG_CURRENT = "Nuvarande lösenord stämmer inte / the current password is wrong"
BAD_LINK = "Länken är ogiltig, redan använd eller har gått ut; begär en ny / the link is invalid, used or expired; request a new one"


def token_digest(token: str) -> str:
    """What is stored of a reset token (a random 256-bit token needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def set_password(session: Session, user: User, password: str, *, field: str) -> None:
    """The one way a password is replaced: checked, hashed, older tokens and open reset links revoked."""
    org = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    check_password(password, field=field, email=user.email, full_name=user.full_name, organisation_name=org.name if org else None)
    user.password_hash = hash_password(password)
    user.token_generation += 1
    session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                    .values(used_at=utcnow()))
    session.flush()


def change_password(session: Session, limiter: LoginLimiter, user: User, current: str, new: str, client: str | None) -> User:
    """The logged-in user replaces their password (the current one is checked and throttled like a login)."""
    limiter.check(user.email, client)
    if not verify_password(user.password_hash, current):
        limiter.failed(user.email, client)
        raise ValidationFailed(WRONG_CURRENT, errors=[{"field": "current_password", "message": WRONG_CURRENT}])
    if current == new:
        raise ValidationFailed(errors=[{"field": "new_password", "message": "Välj ett annat lösenord än det nuvarande / choose a new password"}])
    set_password(session, user, new, field="new_password")
    record(session, actor=user, action="user.password_changed", stream=f"user:{user.id}", after={"user_id": user.id})
    return user


def request_reset(session: Session, email: str, settings: Settings) -> None:
    """Queue a reset e-mail when the address belongs to an active account; nothing tells the caller which it was."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active:
        return
    reset = PasswordReset(user_id=user.id, expires_at=utcnow() + timedelta(minutes=settings.password_reset_minutes))
    session.add(reset)
    session.flush()
    emit(session, RESET_TOPIC, {"reset_id": reset.id})
    # Anyone may ask for an address's reset: the chain says it was asked, not by whom.
    record(session, actor=None, action="user.password_reset_requested", stream=f"user:{user.id}",
           after={"reset_id": reset.id, "expires_at": reset.expires_at})


def confirm_reset(session: Session, token: str, new: str) -> User:
    """Set a new password with an e-mailed reset token (422 naming `token` when it is unknown, used or expired)."""
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_digest(token)).with_for_update())
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise ValidationFailed(BAD_LINK, errors=[{"field": "token", "message": BAD_LINK}])
    user = session.get(User, reset.user_id)
    if not user.is_active:
        raise ValidationFailed(BAD_LINK, errors=[{"field": "token", "message": BAD_LINK}])
    set_password(session, user, new, field="new_password")  # uses this reset up together with every other open one
    record(session, actor=user, action="user.password_reset", stream=f"user:{user.id}", after={"user_id": user.id, "reset_id": reset.id})
    return user
