"""What follows an account change, after commit: the e-mails with a link (password reset, the welcome e-mail that
confirms a self-registered address), whose token is drawn as the e-mail is sent."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from service.auth.credentials import TOKEN_TOPIC, token_digest
from service.auth.models import AccountToken, TokenPurpose, User
from service.db import utcnow
from service.notifications.email import render_email
from service.notifications.service import deliver
from service.organisations.models import Organisation
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler


def _context(session: Session, row: AccountToken, user: User, token: str, base: str) -> tuple[str, dict[str, Any]]:
    if row.purpose == TokenPurpose.PASSWORD_RESET:
        return "password_reset", {"reset_url": f"{base}/aterstall-losenord?token={token}"}
    org = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    return "account_created", {"confirm_url": f"{base}/bekrafta-konto?token={token}", "login_url": f"{base}/logga-in",
                               "organisation_name": org.name if org else "", "orgnr": org.orgnr if org else ""}


def send_account_token(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """E-mail a fresh single-use link; nothing for a token already used or expired, or an account since deactivated.

    The token exists only in the e-mail: the outbox row names the token row, which keeps the token's SHA-256
    (written in the same transaction that marks the event done). A retry draws a new token, so only the link of the
    message that was last sent works.
    """
    row = session.get(AccountToken, event.payload["token_id"])
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return
    user = session.get(User, row.user_id)
    if not user.is_active:
        return
    token = secrets.token_urlsafe(32)
    row.token_hash = token_digest(token)
    session.flush()
    template, extra = _context(session, row, user, token, ctx.settings.public_base_url)
    spec = render_email(template, {"to": user.email, "recipient_name": user.full_name, "expires_at": row.expires_at, **extra})
    deliver(ctx, spec, f"account-token:{row.id}:{event.attempts}")


HANDLERS: dict[str, Handler] = {TOKEN_TOPIC: send_account_token}
