"""Organisation endpoints: registration data, contacts (GDPR export and erasure), joining the överenskommelse."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from service.audit.models import AuditEvent
from service.audit.router import AuditEventOut, ChainOut
from service.audit.service import verify
from service.auth.models import Role, User
from service.cases.router import IfMatch, etag, parse_if_match
from service.deps import AppSettings, CurrentUser, DbSession
from service.documents import service as documents
from service.errors import Forbidden, PayloadTooLarge, ValidationFailed
from service.organisations import invitations, service
from service.organisations.models import ContactPerson, Organisation
from service.organisations.schemas import (
    InvitationIn,
    InvitationOut,
    CONTROL_CHARS,
    BoardMinutesOut,
    ContactExport,
    ContactIn,
    ContactOut,
    ContactPatch,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    OverenskommelseOut,
)
from service.schemas import Id
from service.idempotency import IdempotencyKey
from storage.base import ObjectStore

router = APIRouter(tags=["organisations"])
Store = Annotated[ObjectStore, Depends(documents.get_store)]


@router.get("/organisations", response_model=list[OrganisationOut])
def list_organisations(session: DbSession, user: CurrentUser, q: Annotated[str | None, Query(max_length=200)] = None) -> list[Organisation]:
    """Civil servants see all organisations; members see their own."""
    if q and CONTROL_CHARS.search(q):
        raise ValidationFailed(errors=[{"field": "q", "message": "får inte innehålla styrtecken / must not contain control characters"}])
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


def with_etag(response: Response, org: Organisation) -> Organisation:
    """Expose the organisation's optimistic-lock version as ETag (If-Match sends it back), as cases do."""
    response.headers["ETag"] = etag(org.version)
    return org


@router.get("/organisations/{org_id}", response_model=OrganisationOut)
def get_organisation(org_id: Id, session: DbSession, user: CurrentUser, response: Response) -> Organisation:
    """One organisation (ETag: its version)."""
    return with_etag(response, service.get_visible(session, user, org_id))


@router.patch("/organisations/{org_id}", response_model=OrganisationOut)
def update_organisation(org_id: Id, data: OrganisationPatch, session: DbSession, user: CurrentUser, response: Response,
                        if_match: IfMatch = None) -> Organisation:
    """Change registration data; with If-Match (the ETag) a change based on an older version is refused (409)."""
    org = service.get_visible(session, user, org_id)
    return with_etag(response, service.update(session, user, org, data, parse_if_match(if_match, required=False)))


@router.post("/organisations/{org_id}/verify", response_model=OrganisationOut)
def verify_organisation(org_id: Id, session: DbSession, user: CurrentUser, settings: AppSettings, response: Response) -> Organisation:
    """An officer, registrar or admin confirms a self-registered organisation, so its proposals can be submitted (members are e-mailed)."""
    return with_etag(response, service.verify(session, user, service.get_visible(session, user, org_id), settings.public_base_url))


# --------------------------------------------------------------------------- contacts


@router.get("/organisations/{org_id}/contacts", response_model=list[ContactOut])
def list_contacts(org_id: Id, session: DbSession, user: CurrentUser, include_erased: bool = False) -> list[ContactPerson]:
    """Contact persons; erased ones (pseudonym only) with include_erased=true."""
    return service.list_contacts(session, service.get_visible(session, user, org_id), include_erased=include_erased)


@router.post("/organisations/{org_id}/contacts", response_model=ContactOut, status_code=201)
def add_contact(org_id: Id, data: ContactIn, session: DbSession, user: CurrentUser, idem: IdempotencyKey) -> object:
    """Add a contact person."""
    org = service.get_visible(session, user, org_id)
    return idem.run(session, user.id, data, ContactOut, lambda: service.add_contact(session, user, org, data))


@router.patch("/organisations/{org_id}/contacts/{contact_id}", response_model=ContactOut)
def update_contact(org_id: Id, contact_id: Id, data: ContactPatch, session: DbSession, user: CurrentUser) -> ContactPerson:
    """Correct a contact person (the organisation's members and registrars)."""
    return service.update_contact(session, user, service.get_visible(session, user, org_id), contact_id, data)


@router.delete("/organisations/{org_id}/contacts/{contact_id}", status_code=204)
def delete_contact(org_id: Id, contact_id: Id, session: DbSession, user: CurrentUser) -> Response:
    """Remove a contact person: erased to a pseudonym, never deleted, so references stay valid."""
    service.erase_contact(session, user, service.get_visible(session, user, org_id), contact_id)
    return Response(status_code=204)


@router.get("/organisations/{org_id}/contacts/{contact_id}/export", response_model=ContactExport)
def export_contact(org_id: Id, contact_id: Id, session: DbSession, user: CurrentUser) -> ContactExport:
    """Registerutdrag: all personal data held about the contact and where it appears."""
    return service.export_contact(session, user, service.get_visible(session, user, org_id), contact_id)


@router.post("/organisations/{org_id}/contacts/{contact_id}/erase", response_model=ContactOut)
def erase_contact(org_id: Id, contact_id: Id, session: DbSession, user: CurrentUser) -> ContactPerson:
    """The registrar erases a contact on request (GDPR art. 17): pseudonym in place of name, e-mail, phone and role."""
    org = service.get_visible(session, user, org_id)  # invisible organisations are 404 before any role check
    if user.role != Role.REGISTRAR:
        raise Forbidden("Endast registrator raderar personuppgifter på begäran / only registrars erase on request")
    return service.erase_contact(session, user, org, contact_id)


# --------------------------------------------------------------------------- the local överenskommelse


def _overenskommelse(session: DbSession, org: Organisation) -> OverenskommelseOut:
    return OverenskommelseOut(organisation_id=org.id, joined_overenskommelse_on=org.joined_overenskommelse_on,
                              board_minutes=[BoardMinutesOut.model_validate(d) for d in service.board_minutes(session, org)])


@router.post("/organisations/{org_id}/overenskommelse", response_model=OverenskommelseOut, status_code=201)
def join_overenskommelse(
    org_id: Id, request: Request, session: DbSession, user: CurrentUser, store: Store, settings: AppSettings,
    joined_on: Annotated[date, Form(alias="date", description="Dag då styrelsen beslutade att ansluta / date the board decided to join")],
    file: Annotated[UploadFile, File(description="Styrelseprotokollet / the board minutes (pdf, docx, odt, png, jpg)")],
) -> OverenskommelseOut:
    """Record that the organisation joined the local överenskommelse, with the board minutes as evidence."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.upload_limit_bytes + 64 * 1024:
        raise PayloadTooLarge(f"Filen är större än {settings.upload_limit_bytes // (1024 * 1024)} MB / file too large")
    org = service.get_visible(session, user, org_id)
    service.ensure_may_edit(user, org)
    if joined_on > datetime.now(ZoneInfo(settings.timezone)).date():
        raise ValidationFailed(errors=[{"field": "date", "message": "Datumet kan inte ligga i framtiden / the date cannot be in the future"}])
    content, mime = documents.read_upload(file.file, settings.upload_limit_bytes)
    filename = file.filename or f"styrelseprotokoll.{documents.ALLOWED_UPLOADS[mime]}"
    service.join_overenskommelse(session, store, user, org, joined_on=joined_on, filename=filename, content=content, content_type=mime)
    return _overenskommelse(session, org)


@router.get("/organisations/{org_id}/overenskommelse", response_model=OverenskommelseOut)
def get_overenskommelse(org_id: Id, session: DbSession, user: CurrentUser) -> OverenskommelseOut:
    """When the organisation joined and its board minutes, newest first."""
    return _overenskommelse(session, service.get_visible(session, user, org_id))


# The stored file comes back as it was uploaded; these are the only types an upload may have.
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_FILE_RESPONSE = {200: {"description": "Filen / the file", "content": {mime: _BINARY for mime in documents.ALLOWED_UPLOADS}}}


@router.get("/organisations/{org_id}/board-minutes/{document_id}/content", response_class=StreamingResponse, responses=_FILE_RESPONSE)
def download_board_minutes(org_id: Id, document_id: Id, session: DbSession, user: CurrentUser, store: Store) -> StreamingResponse:
    """Stream the board minutes through the API, for those who may see the organisation."""
    doc = service.get_board_minutes(session, service.get_visible(session, user, org_id), document_id)
    body = documents.open_content(store, doc)
    return StreamingResponse(body, media_type=doc.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}",
        "Content-Length": str(doc.size), "ETag": f'"{doc.sha256}"', "X-Content-SHA256": doc.sha256,
    })


# --------------------------------------------------------------------------- audit


def _ensure_registrar(user: User) -> None:
    if user.role != Role.REGISTRAR:
        raise Forbidden("Organisationens revisionslogg visas för registratorer / the organisation's audit trail is for registrars")


@router.get("/organisations/{org_id}/audit", response_model=list[AuditEventOut])
def organisation_audit(org_id: Id, session: DbSession, user: CurrentUser) -> list[AuditEvent]:
    """Every recorded change of the organisation's registration data and contacts, in order."""
    org = service.get_visible(session, user, org_id)
    _ensure_registrar(user)
    return list(session.scalars(select(AuditEvent).where(AuditEvent.stream == f"organisation:{org.id}").order_by(AuditEvent.seq)))


@router.get("/organisations/{org_id}/audit/verify", response_model=ChainOut)
def verify_organisation_chain(org_id: Id, session: DbSession, user: CurrentUser) -> Any:
    """Recompute the organisation's hash chain."""
    org = service.get_visible(session, user, org_id)
    _ensure_registrar(user)
    return verify(session, f"organisation:{org.id}")


@router.post("/organisations/{org_id}/invitations", response_model=InvitationOut, status_code=201)
def invite_member(org_id: Id, data: InvitationIn, session: DbSession, user: CurrentUser) -> object:
    """Invite an e-mail address into the organisation (officers, registrars, admins; members into their own): the first
    single sign-on login through an organisation provider with that verified address joins it. Inviting again renews."""
    return invitations.invite(session, user, org_id, data.email)


@router.get("/organisations/{org_id}/invitations", response_model=list[InvitationOut])
def list_invitations(org_id: Id, session: DbSession, user: CurrentUser) -> object:
    """The organisation's invitations, newest first (whoever may invite)."""
    return invitations.listing(session, user, org_id)
