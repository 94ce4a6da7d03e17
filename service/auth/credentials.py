"""Changing and resetting a password, confirming a self-registered account's e-mail (API and web share these).

- Every new password passes service.auth.passwords.check_password against the account's own data.
- A new password raises the account's token generation: every API token and web session issued before stops working,
  and every reset link still open is used up. The caller hands out a fresh token.
- A change needs the current password; wrong guesses count against the login throttle of that account and address.
- A reset request answers the same whether or not the address has an account; only an active account with a
  password gets an e-mail (a single sign-on account logs in only through its provider). E-mailed tokens (reset, confirmation) are drawn when the e-mail is sent (service.auth.effects), single use,
  expiring; the database keeps only their SHA-256.
- A self-registered account logs in once its owner followed the confirmation link, or reset the password through the
  address (either proves the mailbox): until then the address is only what someone typed.
- The audit chain records that a password was changed, reset or a reset asked for, or an address confirmed, never a
  password or token.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.audit.service import record
from service.auth.models import AccountToken, TokenPurpose, User
from service.auth.passwords import check_password
from service.auth.ratelimit import LoginLimiter
from service.auth.security import NO_PASSWORD, hash_password, verify_password
from service.config import Settings
from service.db import utcnow
from service.errors import ValidationFailed
from service.organisations.models import Organisation
from service.outbox.service import emit

TOKEN_TOPIC = "auth.account_token"
WRONG_CURRENT = "Nuvarande lösenord stämmer inte / the current password is wrong"
BAD_LINK = "Länken är ogiltig, redan använd eller har gått ut; begär en ny / the link is invalid, used or expired; request a new one"


def token_digest(token: str) -> str:
    """What is stored of an e-mailed token (a random 256-bit token needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(session: Session, user: User, purpose: TokenPurpose, lifetime: timedelta) -> AccountToken:
    """An account token whose e-mail the outbox sends (and whose secret it draws) after commit."""
    token = AccountToken(user_id=user.id, purpose=purpose, expires_at=utcnow() + lifetime)
    session.add(token)
    session.flush()
    emit(session, TOKEN_TOPIC, {"token_id": token.id})
    return token


def _redeem(session: Session, token: str, purpose: TokenPurpose) -> tuple[AccountToken, User]:
    """The open token of this purpose and its active account, used up now; 422 naming `token` otherwise."""
    row = session.scalar(select(AccountToken).where(AccountToken.token_hash == token_digest(token), AccountToken.purpose == purpose)
                         .with_for_update())
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or row.used_at is not None or row.expires_at <= utcnow() or user is None or not user.is_active:
        raise ValidationFailed(BAD_LINK, errors=[{"field": "token", "message": BAD_LINK}])
    row.used_at = utcnow()
    return row, user


def set_password(session: Session, user: User, password: str, *, field: str) -> None:
    """The one way a password is replaced: checked, hashed, older tokens and open reset links revoked."""
    org = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    check_password(password, field=field, email=user.email, full_name=user.full_name, organisation_name=org.name if org else None)
    user.password_hash = hash_password(password)
    user.token_generation += 1
    session.execute(update(AccountToken).where(AccountToken.user_id == user.id, AccountToken.purpose == TokenPurpose.PASSWORD_RESET,
                                               AccountToken.used_at.is_(None)).values(used_at=utcnow()))
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
    # A single sign-on account has no password to reset: one set by e-mail would bypass its provider.
    if user is None or not user.is_active or user.password_hash == NO_PASSWORD:
        return
    token = _issue(session, user, TokenPurpose.PASSWORD_RESET, timedelta(minutes=settings.password_reset_minutes))
    # Anyone may ask for an address's reset: the chain says it was asked, not by whom.
    record(session, actor=None, action="user.password_reset_requested", stream=f"user:{user.id}",
           after={"token_id": token.id, "expires_at": token.expires_at})


def confirm_reset(session: Session, token: str, new: str) -> User:
    """Set a new password with an e-mailed reset token (422 naming `token` when it is unknown, used or expired)."""
    row, user = _redeem(session, token, TokenPurpose.PASSWORD_RESET)
    set_password(session, user, new, field="new_password")  # uses up every other open reset link as well
    record(session, actor=user, action="user.password_reset", stream=f"user:{user.id}", after={"user_id": user.id, "token_id": row.id})
    _confirmed(session, user)  # the link came through the mailbox
    return user


def request_confirmation(session: Session, user: User, settings: Settings) -> AccountToken:
    """E-mail a self-registered account the link that confirms its address (sent with the welcome e-mail)."""
    return _issue(session, user, TokenPurpose.CONFIRM_EMAIL, timedelta(days=settings.email_confirm_days))


def confirm_email(session: Session, token: str) -> User:
    """Confirm the account's e-mail address with the e-mailed token; it may log in from then on."""
    _, user = _redeem(session, token, TokenPurpose.CONFIRM_EMAIL)
    _confirmed(session, user)
    return user


def _confirmed(session: Session, user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        session.flush()
        record(session, actor=user, action="user.email_confirmed", stream=f"user:{user.id}", after={"user_id": user.id})
