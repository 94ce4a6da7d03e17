"""What follows an invitation into an organisation, after commit: the e-mail to the invited address."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.notifications.email import render_email
from service.notifications.service import deliver
from service.organisations.invitations import INVITATION_TOPIC, is_open
from service.organisations.models import Organisation, OrganisationInvitation
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler


def send_invitation(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """E-mail the invited address how to join; nothing for an invitation accepted, revoked or expired meanwhile."""
    inv = session.get(OrganisationInvitation, event.payload["invitation_id"])
    if inv is None or not is_open(inv):
        return
    org = session.get(Organisation, inv.organisation_id)
    spec = render_email("organisation_invited", {"to": inv.email, "recipient_name": "", "organisation_name": org.name, "orgnr": org.orgnr,
                                                 "expires_at": inv.expires_at, "login_url": f"{ctx.settings.public_base_url}/logga-in"})
    # The key names the renewal too: inviting again sends a new e-mail, a retry of the same one does not.
    deliver(ctx, spec, f"invitation:{inv.id}:{int(inv.expires_at.timestamp())}:{event.attempts}")


HANDLERS: dict[str, Handler] = {INVITATION_TOPIC: send_invitation}
