"""Organisation rules: who may see and change which organisation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.service import record
from service.auth.models import Role, User
from service.errors import Conflict, Forbidden, NotFound
from service.organisations.models import ContactPerson, Organisation
from service.organisations.schemas import ContactIn, OrganisationIn, OrganisationPatch

READ_ALL = (Role.OFFICER, Role.APPROVER, Role.REGISTRAR, Role.ADMIN)


def get_visible(session: Session, user: User, org_id: int) -> Organisation:
    """The organisation if the user may see it, else 404."""
    org = session.get(Organisation, org_id)
    if org is None or (user.role not in READ_ALL and user.organisation_id != org_id):
        raise NotFound("Organisationen finns inte / Organisation not found")
    return org


def _ensure_orgnr_free(session: Session, orgnr: str, except_id: int | None = None) -> None:
    existing = session.scalar(select(Organisation.id).where(Organisation.orgnr == orgnr))
    if existing is not None and existing != except_id:
        raise Conflict(f"Organisationsnummer {orgnr} är redan registrerat / already registered", field="orgnr")


def register(session: Session, user: User, data: OrganisationIn) -> Organisation:
    """An org member without organisation registers theirs; registrars/admins register any."""
    if user.role == Role.ORG_MEMBER and user.organisation_id is not None:
        raise Conflict("Du hör redan till en organisation / You already belong to an organisation")
    if user.role not in (Role.ORG_MEMBER, Role.REGISTRAR, Role.ADMIN):
        raise Forbidden()
    _ensure_orgnr_free(session, data.orgnr)
    org = Organisation(**data.model_dump(exclude={"contacts"}))
    org.contacts = [ContactPerson(**c.model_dump()) for c in data.contacts]
    session.add(org)
    session.flush()
    if user.role == Role.ORG_MEMBER:
        user.organisation_id = org.id
    record(session, actor=user, action="organisation.registered", stream=f"organisation:{org.id}",
           after=data.model_dump(exclude={"contacts"}))
    return org


def update(session: Session, user: User, org: Organisation, data: OrganisationPatch) -> Organisation:
    """Own org members and registrars correct registration data."""
    if not (user.role == Role.REGISTRAR or (user.role == Role.ORG_MEMBER and user.organisation_id == org.id)):
        raise Forbidden()
    changes = data.model_dump(exclude_unset=True)
    if "orgnr" in changes:
        _ensure_orgnr_free(session, changes["orgnr"], except_id=org.id)
    before = {k: getattr(org, k) for k in changes}
    for k, v in changes.items():
        setattr(org, k, v)
    session.flush()
    record(session, actor=user, action="organisation.updated", stream=f"organisation:{org.id}", before=before, after=changes)
    return org


def add_contact(session: Session, user: User, org: Organisation, data: ContactIn) -> ContactPerson:
    """Add a contact person to an organisation."""
    if not (user.role == Role.REGISTRAR or (user.role == Role.ORG_MEMBER and user.organisation_id == org.id)):
        raise Forbidden()
    contact = ContactPerson(organisation_id=org.id, **data.model_dump())
    session.add(contact)
    session.flush()
    record(session, actor=user, action="organisation.contact_added", stream=f"organisation:{org.id}",
           after={"contact_id": contact.id})
    return contact
