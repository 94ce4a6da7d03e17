"""What follows an account change, after commit: the password-reset e-mail, whose token is drawn as it is sent."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from service.auth.credentials import RESET_TOPIC, token_digest
from service.auth.models import PasswordReset, User
from service.db import utcnow
from service.notifications.email import render_email
from service.notifications.service import deliver
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler


def send_password_reset(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """E-mail a fresh single-use link; nothing for a reset already used or expired, or an account since deactivated.

    The token exists only in the e-mail: the outbox row names the reset, the reset row keeps the token's SHA-256
    (written in the same transaction that marks the event done). A retry draws a new token, so only the link of the
    message that was last sent works.
    """
    reset = session.get(PasswordReset, event.payload["reset_id"])
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return
    user = session.get(User, reset.user_id)
    if not user.is_active:
        return
    token = secrets.token_urlsafe(32)
    reset.token_hash = token_digest(token)
    session.flush()
    spec = render_email("password_reset", {
        "to": user.email, "recipient_name": user.full_name, "expires_at": reset.expires_at,
        "reset_url": f"{ctx.settings.public_base_url}/aterstall-losenord?token={token}",
    })
    deliver(ctx, spec, f"password-reset:{reset.id}:{event.attempts}")


HANDLERS: dict[str, Handler] = {RESET_TOPIC: send_password_reset}
