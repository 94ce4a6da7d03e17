"""Invitations into an organisation (API and web share these): who may invite, and accepting one at a single sign-on login.

- An officer, registrar or administrator invites into any organisation, a member into their own; the address is
  normalised (lower case) and one open invitation per address and organisation is kept (inviting again renews it).
  The invited address is e-mailed after commit (service.organisations.effects), again at each renewal.
- An invitation is open until accepted, revoked or `INVITATION_DAYS` after it was made.
- Accepting (service.auth.oidc.accounts) is done by the first login through an organisation provider whose verified
  e-mail is the invited address; it is used up then and names the account that accepted it.
- The audit chain of the organisation records invitations with ids only (the address stays in the invitation row).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.service import record
from service.auth.models import Role, User
from service.db import utcnow
from service.errors import Forbidden, NotFound, ValidationFailed
from service.organisations.models import Organisation, OrganisationInvitation
from service.outbox.service import emit

INVITATION_DAYS = 30
INVITATION_TOPIC = "organisations.invitation"
INVITERS = (Role.OFFICER, Role.REGISTRAR, Role.ADMIN)
BAD_EMAIL = "Ange en e-postadress, till exempel namn@exempel.se / enter an e-mail address"


def _may_invite(user: User, org: Organisation) -> None:
    if user.role in INVITERS or (user.role == Role.ORG_MEMBER and user.organisation_id == org.id):
        return
    if user.role == Role.ORG_MEMBER:
        raise NotFound("Organisationen finns inte / Organisation not found")
    raise Forbidden("Din roll får inte bjuda in / your role may not invite")


def normalise(email: str) -> str:
    """The address as invitations and accounts store it; 422 on the `email` field when it is no address."""
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or len(value) > 254 or any(c.isspace() or ord(c) < 32 for c in value):
        raise ValidationFailed(BAD_EMAIL, errors=[{"field": "email", "message": BAD_EMAIL}])
    return value


def invite(session: Session, user: User, org_id: int, email: str) -> OrganisationInvitation:
    """Invite an address into the organisation (renews an open invitation of the same address)."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("Organisationen finns inte / Organisation not found")
    _may_invite(user, org)
    address = normalise(email)
    now = utcnow()
    inv = open_invitation(session, address, org_id=org.id)
    if inv is None:
        inv = OrganisationInvitation(organisation_id=org.id, email=address, invited_by_id=user.id, expires_at=now + timedelta(days=INVITATION_DAYS))
        session.add(inv)
    else:
        inv.invited_by_id, inv.expires_at = user.id, now + timedelta(days=INVITATION_DAYS)
    session.flush()
    emit(session, INVITATION_TOPIC, {"invitation_id": inv.id})  # the e-mail goes out after commit (service.organisations.effects)
    record(session, actor=user, action="organisation.member_invited", stream=f"organisation:{org.id}",
           after={"invitation_id": inv.id, "organisation_id": org.id, "expires_at": inv.expires_at})
    return inv


def listing(session: Session, user: User, org_id: int) -> list[OrganisationInvitation]:
    """The organisation's invitations, newest first (those who may invite may see them)."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("Organisationen finns inte / Organisation not found")
    _may_invite(user, org)
    return list(session.scalars(select(OrganisationInvitation).where(OrganisationInvitation.organisation_id == org.id)
                                .order_by(OrganisationInvitation.id.desc())))


def open_invitation(session: Session, email: str, *, org_id: int | None = None) -> OrganisationInvitation | None:
    """The newest open invitation of an address (into one organisation, or any)."""
    stmt = select(OrganisationInvitation).where(OrganisationInvitation.email == email.strip().lower(),
                                                OrganisationInvitation.accepted_at.is_(None), OrganisationInvitation.revoked_at.is_(None),
                                                OrganisationInvitation.expires_at > utcnow())
    if org_id is not None:
        stmt = stmt.where(OrganisationInvitation.organisation_id == org_id)
    return session.scalar(stmt.order_by(OrganisationInvitation.id.desc()).limit(1).with_for_update())


def accept(session: Session, inv: OrganisationInvitation, user: User) -> None:
    """The invited person's account joins the organisation (called by the single sign-on login that proved the address)."""
    inv.accepted_at, inv.accepted_by_id = utcnow(), user.id
    session.flush()
    record(session, actor=user, action="organisation.invitation_accepted", stream=f"organisation:{inv.organisation_id}",
           after={"invitation_id": inv.id, "organisation_id": inv.organisation_id, "user_id": user.id})


def is_open(inv: OrganisationInvitation) -> bool:
    """Neither accepted, revoked nor expired."""
    return inv.accepted_at is None and inv.revoked_at is None and inv.expires_at > utcnow()
