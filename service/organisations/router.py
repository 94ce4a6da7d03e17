"""Organisation endpoints."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from service.auth.models import Role
from service.deps import CurrentUser, DbSession
from service.organisations import service
from service.organisations.models import ContactPerson, Organisation
from service.organisations.schemas import ContactIn, ContactOut, OrganisationIn, OrganisationOut, OrganisationPatch

router = APIRouter(tags=["organisations"])


@router.get("/organisations", response_model=list[OrganisationOut])
def list_organisations(session: DbSession, user: CurrentUser, q: str | None = None) -> list[Organisation]:
    """Civil servants see all organisations; members see their own."""
    stmt = select(Organisation).options(selectinload(Organisation.contacts)).order_by(Organisation.name)
    if user.role not in service.READ_ALL:
        stmt = stmt.where(Organisation.id == user.organisation_id)
    if q:
        stmt = stmt.where(Organisation.name.ilike(f"%{q}%") | (Organisation.orgnr == q))
    return list(session.scalars(stmt.limit(500)))


@router.post("/organisations", response_model=OrganisationOut, status_code=201)
def register_organisation(data: OrganisationIn, session: DbSession, user: CurrentUser) -> Organisation:
    """Register an organisation (orgnr validated and unique)."""
    return service.register(session, user, data)


@router.get("/organisations/{org_id}", response_model=OrganisationOut)
def get_organisation(org_id: int, session: DbSession, user: CurrentUser) -> Organisation:
    """One organisation."""
    return service.get_visible(session, user, org_id)


@router.patch("/organisations/{org_id}", response_model=OrganisationOut)
def update_organisation(org_id: int, data: OrganisationPatch, session: DbSession, user: CurrentUser) -> Organisation:
    """Change registration data."""
    return service.update(session, user, service.get_visible(session, user, org_id), data)


@router.post("/organisations/{org_id}/contacts", response_model=ContactOut, status_code=201)
def add_contact(org_id: int, data: ContactIn, session: DbSession, user: CurrentUser) -> ContactPerson:
    """Add a contact person."""
    return service.add_contact(session, user, service.get_visible(session, user, org_id), data)


__all__ = ["router", "Role"]
