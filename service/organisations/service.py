"""Organisation rules: who may see and change which organisation, contacts (incl. GDPR export/erasure), joining."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.cases.access import messages_shown
from service.agreements.models import Agreement, Signature
from service.audit.models import AuditEvent
from service.audit.service import record
from service.auth.models import Role, User
from service.auth import credentials
from service.auth.passwords import check_password
from service.auth.security import hash_password
from service.cases.models import Case, CompletionRequest
from service.config import Settings
from service.db import utcnow
from service.dialogue.models import DialogueMeeting
from service.documents.models import Document, DocumentKind
from service.documents.service import UNAVAILABLE, safe_filename
from service.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, StaleVersion
from service.messages.models import Message
from service.outbox.service import emit
from service.organisations.models import ContactPerson, Organisation
from service.organisations.schemas import (
    ContactExport,
    ContactIn,
    ContactOut,
    ContactPatch,
    Occurrence,
    OrganisationIn,
    OrganisationPatch,
    RegistrationIn,
)
from service.schemas import MAX_ID
from storage.base import ObjectStore, StorageUnavailable

READ_ALL = (Role.OFFICER, Role.APPROVER, Role.REGISTRAR, Role.ADMIN)
# Who confirms that a self-registered organisation is the one its organisationsnummer names.
VERIFIERS = (Role.OFFICER, Role.REGISTRAR, Role.ADMIN)
REGISTERED = ("Tack! Vi har skickat ett e-postmeddelande till adressen du angav med nästa steg. / "
              "Thank you: we have sent an e-mail with the next steps to the address you gave.")


def get_visible(session: Session, user: User, org_id: int) -> Organisation:
    """The organisation if the user may see it, else 404."""
    org = session.get(Organisation, org_id) if 0 < org_id <= MAX_ID else None  # larger ids name no row (and overflow the driver)
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
    if user.role != Role.ORG_MEMBER:
        # Registered by the municipality's own staff: nobody else needs to confirm it.
        org.verified_at, org.verified_by_id = utcnow(), user.id
    session.add(org)
    session.flush()
    if user.role == Role.ORG_MEMBER:
        user.organisation_id = org.id
    # Contacts are personal data that must stay erasable; the append-only chain gets their ids only.
    record(session, actor=user, action="organisation.registered", stream=f"organisation:{org.id}",
           after={**data.model_dump(exclude={"contacts"}), "contact_ids": [c.id for c in org.contacts]})
    return org


def update(session: Session, user: User, org: Organisation, data: OrganisationPatch, expected_version: int | None = None) -> Organisation:
    """Own org members and registrars correct registration data (409 when If-Match names an older version)."""
    ensure_may_edit(user, org)
    if expected_version is not None and expected_version != org.version:
        raise StaleVersion(f"Organisationen har version {org.version}, du skickade {expected_version} / "
                           f"the organisation is at version {org.version}", current_version=org.version)
    changes = data.model_dump(exclude_unset=True)
    if "orgnr" in changes:
        _ensure_orgnr_free(session, changes["orgnr"], except_id=org.id)
    before = {k: getattr(org, k) for k in changes}
    for k, v in changes.items():
        setattr(org, k, v)
    if user.role == Role.ORG_MEMBER and org.verified_at is not None and before.get("orgnr", org.orgnr) != org.orgnr:
        # The verification confirmed who holds that number; a member who changes it must be confirmed again.
        before |= {"verified_at": org.verified_at, "verified_by_id": org.verified_by_id}
        org.verified_at, org.verified_by_id = None, None
        changes |= {"verified_at": None, "verified_by_id": None}
    session.flush()
    record(session, actor=user, action="organisation.updated", stream=f"organisation:{org.id}", before=before, after=changes)
    return org


def verify(session: Session, user: User, org: Organisation, base_url: str) -> Organisation:
    """An officer, registrar or admin confirms a self-registered organisation; its cases may be submitted from then on."""
    if user.role not in VERIFIERS:
        raise Forbidden("Endast handläggare, registratorer och administratörer verifierar organisationer / "
                        "only officers, registrars and administrators verify organisations")
    if org.verified_at is not None:
        return org
    org.verified_at, org.verified_by_id = utcnow(), user.id
    session.flush()
    event = record(session, actor=user, action="organisation.verified", stream=f"organisation:{org.id}",
                   after={"verified_at": org.verified_at, "verified_by_id": user.id, "orgnr": org.orgnr})
    members = session.scalars(select(User).where(User.organisation_id == org.id, User.role == Role.ORG_MEMBER, User.is_active.is_(True)))
    for m in members:
        emit(session, "email.send", {"template": "organisation_verified", "key": f"organisation-verified:{org.id}:{event.seq}:{m.id}",
                                     "context": {"to": m.email, "recipient_name": m.full_name, "organisation_name": org.name,
                                                 "orgnr": org.orgnr, "login_url": f"{base_url}/logga-in"}})
    return org


def ensure_may_edit(user: User, org: Organisation) -> None:
    """Registration data and contacts are kept by the organisation's own members and by registrars."""
    if not (user.role == Role.REGISTRAR or (user.role == Role.ORG_MEMBER and user.organisation_id == org.id)):
        raise Forbidden("Endast organisationens medlemmar och registratorer / only the organisation's members and registrars")


def self_register(session: Session, data: RegistrationIn, settings: Settings) -> None:
    """Create an organisation member (unconfirmed: it logs in once the welcome e-mail's link is followed) and their
    (unverified) organisation together, or, when the e-mail already has an account, e-mail its owner instead: the
    caller answers both alike, and a login with the password just typed fails alike, so registration tells nobody
    which e-mails exist.

    Both ways cost one argon2 hash and queue one e-mail. The organisationsnummer is public, so a taken one is a 409
    either way (checked before the e-mail). Two registrations of one new e-mail at once: the loser of the unique index
    is told like a known e-mail.
    """
    email = data.email.strip().lower()
    check_password(data.password, email=email, full_name=data.full_name, organisation_name=data.organisation.name)
    _ensure_orgnr_free(session, data.organisation.orgnr)
    password_hash = hash_password(data.password)  # before the lookup: a known e-mail costs the same argon2 work
    existing = session.scalar(select(User).where(User.email == email))
    if existing is None:
        try:
            with session.begin_nested():
                _create_member(session, data, email, password_hash, settings)
            return
        except IntegrityError as exc:
            if "email" not in str(exc.orig):
                raise
        existing = session.scalar(select(User).where(User.email == email))
    _tell_owner(session, existing, settings.public_base_url)


def _create_member(session: Session, data: RegistrationIn, email: str, password_hash: str, settings: Settings) -> User:
    user = User(email=email, full_name=data.full_name, title=data.title, role=Role.ORG_MEMBER, password_hash=password_hash)
    session.add(user)
    session.flush()
    # Unconfirmed until the welcome e-mail's link is followed: the address is only what someone typed. (Set after the
    # insert: the ORM leaves a None out of it, and the column's default confirms every account the staff create.)
    user.email_confirmed_at = None
    # The account's e-mail is not copied into the append-only chain; the users row holds it.
    record(session, actor=user, action="user.self_registered", stream=f"user:{user.id}", after={"user_id": user.id, "role": user.role})
    register(session, user, data.organisation)
    credentials.request_confirmation(session, user, settings)
    return user


def _tell_owner(session: Session, owner: User, base_url: str) -> None:
    """Someone registered with an e-mail that has an account: its owner hears of it (and how to reset the password)."""
    session.refresh(owner, with_for_update=True)  # two such registrations at once must not both take the chain's next seq
    event = record(session, actor=None, action="user.registration_with_known_email", stream=f"user:{owner.id}", after={"user_id": owner.id})
    if not owner.is_active:
        return  # a closed account's mailbox is not told (the answer to the caller is the same)
    emit(session, "email.send", {"template": "account_exists", "key": f"account-exists:{owner.id}:{event.seq}", "context": {
        "to": owner.email, "recipient_name": owner.full_name, "login_url": f"{base_url}/logga-in",
        "reset_url": f"{base_url}/glomt-losenord"}})


def add_contact(session: Session, user: User, org: Organisation, data: ContactIn) -> ContactPerson:
    """Add a contact person to an organisation."""
    ensure_may_edit(user, org)
    contact = ContactPerson(organisation_id=org.id, **data.model_dump())
    session.add(contact)
    session.flush()
    record(session, actor=user, action="organisation.contact_added", stream=f"organisation:{org.id}",
           after={"contact_id": contact.id})
    return contact


# --------------------------------------------------------------------------- contacts


def get_contact(session: Session, org: Organisation, contact_id: int, *, for_update: bool = False) -> ContactPerson:
    """A contact of this organisation, or 404 (locked when it is about to change)."""
    contact = session.get(ContactPerson, contact_id, with_for_update=for_update or None) if 0 < contact_id <= MAX_ID else None
    if contact is None or contact.organisation_id != org.id:
        raise NotFound("Kontaktpersonen finns inte / Contact not found")
    return contact


def list_contacts(session: Session, org: Organisation, *, include_erased: bool) -> list[ContactPerson]:
    """The organisation's contact persons; erased ones (pseudonyms only) on request."""
    stmt = select(ContactPerson).where(ContactPerson.organisation_id == org.id)
    if not include_erased:
        stmt = stmt.where(ContactPerson.erased_at.is_(None))
    return list(session.scalars(stmt.order_by(ContactPerson.id)))


def update_contact(session: Session, user: User, org: Organisation, contact_id: int, data: ContactPatch) -> ContactPerson:
    """Correct a contact person; an erased contact stays erased."""
    ensure_may_edit(user, org)
    contact = get_contact(session, org, contact_id, for_update=True)
    if contact.erased_at is not None:
        raise Conflict("Kontaktpersonen är raderad och kan inte ändras / contact has been erased")
    changes = data.model_dump(exclude_unset=True)
    for k, v in changes.items():
        setattr(contact, k, v)
    session.flush()
    # Which fields changed, never their values: the chain cannot forget what it is told.
    record(session, actor=user, action="organisation.contact_updated", stream=f"organisation:{org.id}",
           after={"contact_id": contact.id, "fields": sorted(changes)})
    return contact


def pseudonym(contact: ContactPerson) -> str:
    """What an erased contact is called from now on."""
    return f"Raderad kontakt #{contact.id}"


def _patterns(contact: ContactPerson) -> list[re.Pattern[str]]:
    """Case-insensitive patterns for the contact's name, e-mail and phone as they may appear in free text."""
    out = []
    # E-mail before name: a name inside the address ("greta@…") must not be replaced first and leave "@…" behind.
    for value in (contact.email, contact.name):
        # Very short values ("Bo") would match inside unrelated words; they are too weak to search for.
        if value and len(value.strip()) >= 4:
            out.append(re.compile(re.escape(value.strip()), re.IGNORECASE))
    digits = re.sub(r"\D", "", contact.phone or "")
    if len(digits) >= 6:
        # "070-123 45 67", "0701234567" and "070 123 45 67" are the same number.
        out.append(re.compile(r"(?<!\d)" + r"[\s\-]?".join(digits) + r"(?!\d)"))
    return out


def _hits(patterns: list[re.Pattern[str]], text: str | None) -> bool:
    return bool(text) and any(p.search(text) for p in patterns)


def _redact(patterns: list[re.Pattern[str]], text: str, replacement: str) -> str:
    for p in patterns:
        text = p.sub(replacement, text)
    return text


def _json_strings(value: Any) -> Iterable[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v)


def _redact_json(value: Any, patterns: list[re.Pattern[str]], replacement: str) -> Any:
    if isinstance(value, str):
        return _redact(patterns, value, replacement)
    if isinstance(value, dict):
        return {k: _redact_json(v, patterns, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v, patterns, replacement) for v in value]
    return value


MEETING_TEXT = ("place", "notes", "next_steps", "recorder", "adjuster")  # protokollförare and justerare are people too


def _meeting_fields(m: DialogueMeeting, patterns: list[re.Pattern[str]]) -> list[str]:
    fields = [f for f in MEETING_TEXT if _hits(patterns, getattr(m, f))]
    if any(_hits(patterns, s) for s in _json_strings(m.participants or [])):
        fields.append("participants")
    return fields


def export_contact(session: Session, user: User, org: Organisation, contact_id: int) -> ContactExport:
    """All personal data held about a contact and every place it appears (registrars and the organisation's members)."""
    ensure_may_edit(user, org)
    contact = get_contact(session, org, contact_id)
    patterns = _patterns(contact) if contact.erased_at is None else []
    case_ids = list(session.scalars(select(Case.id).where(Case.organisation_id == org.id)))
    found: list[Occurrence] = [Occurrence(
        source="contact_persons", id=contact.id, fields=[f for f in ("name", "email", "phone", "role") if getattr(contact, f)],
        erased_on_request=True, note="Organisationens kontaktuppgifter / the organisation's contact register")]
    if patterns and case_ids:
        msg_stmt = select(Message).where(Message.case_id.in_(case_ids), messages_shown(user))
        for m in session.scalars(msg_stmt.order_by(Message.id)):
            if _hits(patterns, m.body):
                found.append(Occurrence(source="messages", id=m.id, case_id=m.case_id, fields=["body"], erased_on_request=True,
                                        note="Nämns i ärendets meddelandetråd / mentioned in the case thread"))
        for cr in session.scalars(select(CompletionRequest).where(CompletionRequest.case_id.in_(case_ids)).order_by(CompletionRequest.id)):
            if _hits(patterns, cr.message):
                found.append(Occurrence(source="completion_requests", id=cr.id, case_id=cr.case_id, fields=["message"],
                                        erased_on_request=True, note="Nämns i en begäran om komplettering / mentioned in a completion request"))
        for mt in session.scalars(select(DialogueMeeting).where(DialogueMeeting.case_id.in_(case_ids)).order_by(DialogueMeeting.id)):
            if fields := _meeting_fields(mt, patterns):
                found.append(Occurrence(source="dialogue_meetings", id=mt.id, case_id=mt.case_id, fields=fields, erased_on_request=True,
                                        note="Nämns i anteckningar från dialogmöte / mentioned in dialogue meeting notes"))
        signed_cases: set[int] = set()
        for s in session.scalars(select(Signature).where(Signature.case_id.in_(case_ids)).order_by(Signature.id)):
            if _hits(patterns, s.name):
                signed_cases.add(s.case_id)
                found.append(Occurrence(source="signatures", id=s.id, case_id=s.case_id, fields=["name"], erased_on_request=False,
                                        note="Undertecknat avtal bevaras som allmän handling / a signed agreement is kept as a public record"))
        for a in session.scalars(select(Agreement).where(Agreement.case_id.in_(case_ids)).order_by(Agreement.id)):
            if any(_hits(patterns, s) for s in _json_strings(a.terms)):
                signed_cases.add(a.case_id)
                found.append(Occurrence(source="agreements", id=a.id, case_id=a.case_id, fields=["terms"], erased_on_request=False,
                                        note="Avtalsvillkor (firmatecknare) bevaras / agreement terms (signatory) are kept"))
        if signed_cases:
            docs = select(Document).where(Document.case_id.in_(signed_cases),
                                          Document.kind.in_((DocumentKind.AGREEMENT, DocumentKind.SIGNED_AGREEMENT)))
            for d in session.scalars(docs.order_by(Document.id)):
                found.append(Occurrence(source="documents", id=d.id, case_id=d.case_id, fields=["content"], erased_on_request=False,
                                        note="Avtalsdokumentet återger parternas firmatecknare / the agreement names the signatories"))
    streams = [f"organisation:{org.id}", *(f"case:{cid}" for cid in case_ids)]
    for ev in session.scalars(select(AuditEvent).where(AuditEvent.stream.in_(streams)).order_by(AuditEvent.id)):
        refers = ev.stream == f"organisation:{org.id}" and _refers_to(ev, contact.id)
        holds = [k for k in ("before", "after") if patterns and any(_hits(patterns, s) for s in _json_strings(getattr(ev, k)))]
        if refers or holds:
            found.append(Occurrence(
                source="audit_events", id=ev.id, case_id=ev.case_id, fields=holds, erased_on_request=False,
                note=("Revisionsloggen är oföränderlig och innehåller uppgiften / the append-only audit trail holds the data" if holds
                      else "Hänvisar bara till kontaktens id / refers to the contact's id only")))
    if contact.email and contact.erased_at is None:
        for u in session.scalars(select(User).where(func.lower(User.email) == contact.email.lower())):
            found.append(Occurrence(source="users", id=u.id, fields=["email"], erased_on_request=False,
                                    note="Ett användarkonto med samma e-post hanteras separat / a user account with the same e-mail is handled separately"))
    record(session, actor=user, action="organisation.contact_exported", stream=f"organisation:{org.id}", after={"contact_id": contact.id})
    return ContactExport(exported_at=utcnow(), contact=ContactOut.model_validate(contact),
                         organisation={"id": org.id, "name": org.name, "orgnr": org.orgnr}, appears_in=found)


def _refers_to(event: AuditEvent, contact_id: int) -> bool:
    """True when an organisation event names the contact by id."""
    after = event.after or {}
    return after.get("contact_id") == contact_id or contact_id in (after.get("contact_ids") or [])


def erase_contact(session: Session, user: User, org: Organisation, contact_id: int) -> ContactPerson:
    """Replace a contact's personal data by a pseudonym, here and in the case working material where it is quoted."""
    ensure_may_edit(user, org)
    contact = get_contact(session, org, contact_id, for_update=True)
    if contact.erased_at is not None:
        raise Conflict("Kontaktpersonen är redan raderad / contact already erased")
    patterns, alias = _patterns(contact), pseudonym(contact)
    redacted: dict[str, list[int]] = {"messages": [], "dialogue_meetings": [], "completion_requests": []}
    case_ids = list(session.scalars(select(Case.id).where(Case.organisation_id == org.id)))
    if patterns and case_ids:
        for m in session.scalars(select(Message).where(Message.case_id.in_(case_ids)).order_by(Message.id)):
            if _hits(patterns, m.body):
                m.body = _redact(patterns, m.body, alias)
                redacted["messages"].append(m.id)
                record(session, actor=user, action="message.redacted", case_id=m.case_id,
                       after={"message_id": m.id, "reason": "gdpr_erasure", "pseudonym": alias})
        for cr in session.scalars(select(CompletionRequest).where(CompletionRequest.case_id.in_(case_ids)).order_by(CompletionRequest.id)):
            if _hits(patterns, cr.message):
                cr.message = _redact(patterns, cr.message, alias)
                redacted["completion_requests"].append(cr.id)
                record(session, actor=user, action="case.completion_request_redacted", case_id=cr.case_id,
                       after={"completion_request_id": cr.id, "reason": "gdpr_erasure", "pseudonym": alias})
        for mt in session.scalars(select(DialogueMeeting).where(DialogueMeeting.case_id.in_(case_ids)).order_by(DialogueMeeting.id)):
            if fields := _meeting_fields(mt, patterns):
                for f in MEETING_TEXT:
                    setattr(mt, f, _redact(patterns, getattr(mt, f) or "", alias))
                # A new list, so the JSON column is seen as changed.
                mt.participants = _redact_json(list(mt.participants or []), patterns, alias)
                redacted["dialogue_meetings"].append(mt.id)
                record(session, actor=user, action="dialogue.meeting_redacted", case_id=mt.case_id,
                       after={"meeting_id": mt.id, "fields": fields, "reason": "gdpr_erasure", "pseudonym": alias})
    contact.name, contact.email, contact.phone, contact.role = alias, None, None, None
    contact.erased_at = utcnow()
    session.flush()
    record(session, actor=user, action="organisation.contact_erased", stream=f"organisation:{org.id}",
           after={"contact": alias, "redacted": redacted})
    return contact


# --------------------------------------------------------------------------- the local överenskommelse


def board_minutes(session: Session, org: Organisation) -> list[Document]:
    """Stored versions of the organisation's board minutes, newest first."""
    stmt = select(Document).where(Document.organisation_id == org.id, Document.case_id.is_(None), Document.kind == DocumentKind.BOARD_MINUTES)
    return list(session.scalars(stmt.order_by(Document.version.desc(), Document.id.desc())))


def get_board_minutes(session: Session, org: Organisation, document_id: int) -> Document:
    """One version of the organisation's board minutes, or 404."""
    doc = session.get(Document, document_id) if 0 < document_id <= MAX_ID else None
    if doc is None or doc.organisation_id != org.id or doc.case_id is not None or doc.kind != DocumentKind.BOARD_MINUTES:
        raise NotFound("Dokumentet finns inte / Document not found")
    return doc


def board_minutes_key(org_id: int, version: int, filename: str) -> str:
    """Object key of an organisation's board minutes; versions never overwrite each other."""
    return f"organisations/{org_id}/board_minutes/v{version}/{safe_filename(filename)}"


def join_overenskommelse(session: Session, store: ObjectStore, user: User, org: Organisation, *, joined_on: date,
                         filename: str, content: bytes, content_type: str) -> Document:
    """Store the board's minutes as a new version and record the date the organisation joined."""
    ensure_may_edit(user, org)
    # Lock the organisation so two uploads cannot take the same version number (the
    # (case_id, kind, version) index does not help: case_id is NULL here).
    session.refresh(org, with_for_update=True)
    version = (session.scalar(select(func.max(Document.version)).where(
        Document.organisation_id == org.id, Document.case_id.is_(None), Document.kind == DocumentKind.BOARD_MINUTES)) or 0) + 1
    key = board_minutes_key(org.id, version, filename)
    # Object first, then the row: a failed put leaves nothing, a failed commit leaves an unreferenced object.
    try:
        obj = store.put(key, content, length=len(content), content_type=content_type,
                        metadata={"organisation-id": str(org.id), "kind": DocumentKind.BOARD_MINUTES.value})
    except StorageUnavailable as exc:
        raise ServiceUnavailable(UNAVAILABLE, retry_after=30) from exc
    doc = Document(case_id=None, organisation_id=org.id, kind=DocumentKind.BOARD_MINUTES, version=version, filename=safe_filename(filename),
                   content_type=content_type, size=obj.size, sha256=obj.sha256, storage_key=key, storage_version_id=obj.version_id,
                   internal=False, created_by_id=user.id)
    session.add(doc)
    before = org.joined_overenskommelse_on
    org.joined_overenskommelse_on = joined_on
    session.flush()
    record(session, actor=user, action="organisation.joined_overenskommelse", stream=f"organisation:{org.id}",
           before={"joined_overenskommelse_on": before},
           after={"joined_overenskommelse_on": joined_on, "document_id": doc.id, "version": version, "sha256": doc.sha256})
    return doc
