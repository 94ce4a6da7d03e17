"""Diarium: registering a case's allmänna handlingar, a registrar's corrections, and who sees which entries."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session

from service.audit.service import lock_stream, record, stream_for, text_summary
from service.auth.models import Role, User
from service.cases.access import can_see, sees_internal, visible
from service.cases.models import Case
from service.config import Settings, get_settings
from service.db import utcnow
from service.diarium.models import DiaryEntry, Direction
from service.diarium.schemas import DiaryEntryOut, DiaryEntryPatch
from service.errors import Forbidden, NotFound, PreconditionRequired, StaleVersion, ValidationFailed
from service.schemas import MAX_ID

# The handlingstyp a handling gets when it is registered (a registrar may correct it); names not in the configured list
# fall back to its last entry.
TYPE_FOR = {
    "agreement": "Avtal", "signed_agreement": "Undertecknat avtal", "decision": "Beslut", "dialogue_minutes": "Protokoll",
    "followup_request": "Begäran om uppföljning", "followup_summary": "Uppföljningsrapport", "attachment": "Bilaga",
    "board_minutes": "Protokoll", "message": "Meddelande", "application": "Ansökan", "withdrawal": "Återkallelse",
    "completion_request": "Begäran om komplettering", "followup_report": "Uppföljningsrapport",
    "followup_assessment": "Tjänsteanteckning",
}
SEARCH_LIMIT = 200
# C0 control characters but tab and newlines (PostgreSQL refuses NUL in text outright).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def document_types(settings: Settings | None = None) -> list[str]:
    """The configured handlingstyper (IOP_DIARIUM_DOCUMENT_TYPES)."""
    return list((settings or get_settings()).diarium_document_types)


def type_for(kind: str, settings: Settings | None = None) -> str:
    """The handlingstyp a kind of handling is registered as."""
    types = document_types(settings)
    wanted = TYPE_FOR.get(kind)
    return wanted if wanted in types else types[-1]


def today(settings: Settings | None = None) -> date:
    """Today in the municipality's time zone (the date a handling is received or drawn up)."""
    return datetime.now(ZoneInfo((settings or get_settings()).timezone)).date()


def register(session: Session, case: Case, *, direction: Direction, description: str, kind: str, counterpart: str = "",
             internal: bool = False, document_id: int | None = None, message_id: int | None = None,
             review_id: int | None = None) -> DiaryEntry:
    """Register a handling on its case with the next löpnummer (in the caller's transaction; flushes)."""
    # Under the case's audit stream lock, like document versions: two writers queue instead of taking the same number.
    lock_stream(session, stream_for(case.id, None))
    number = (session.scalar(select(func.max(DiaryEntry.number)).where(DiaryEntry.case_id == case.id)) or 0) + 1
    entry = DiaryEntry(case_id=case.id, number=number, entry_date=today(), direction=direction.value, counterpart=counterpart[:200],
                       description=description[:300], document_type=type_for(kind), confidential=False, internal=internal,
                       document_id=document_id, message_id=message_id, review_id=review_id)
    session.add(entry)
    session.flush()
    return entry


def reference(case: Case, entry: DiaryEntry) -> str:
    """`<diarienummer>-<löpnummer>`; before submission the case has no diarienummer yet."""
    return f"{case.diarienummer or ''}-{entry.number}"


def to_out(case: Case, entry: DiaryEntry) -> DiaryEntryOut:
    """The API shape of an entry."""
    return DiaryEntryOut(id=entry.id, case_id=entry.case_id, reference=reference(case, entry), number=entry.number,
                         entry_date=entry.entry_date, direction=Direction(entry.direction), counterpart=entry.counterpart,
                         description=entry.description, document_type=entry.document_type, confidential=entry.confidential,
                         osl_reference=entry.osl_reference, document_id=entry.document_id, message_id=entry.message_id,
                         review_id=entry.review_id, version=entry.version, disposed_at=entry.disposed_at,
                         disposal_decision_id=entry.disposal_decision_id)


def shown(user: User) -> ColumnElement[bool]:
    """SQL condition for the entries of a visible case that the user sees: the organisation, neither secret nor internal ones."""
    if sees_internal(user):
        return true()
    if user.role == Role.ORG_MEMBER:
        return (DiaryEntry.confidential.is_(False)) & (DiaryEntry.internal.is_(False))
    return false()


def list_for_case(session: Session, user: User, case: Case) -> list[DiaryEntry]:
    """A visible case's entries in löpnummer order (the caller has checked visibility)."""
    return list(session.scalars(select(DiaryEntry).where(DiaryEntry.case_id == case.id, shown(user)).order_by(DiaryEntry.number)))


def get_entry(session: Session, case: Case, entry_id: int) -> DiaryEntry:
    """An entry of this case, or 404."""
    entry = session.get(DiaryEntry, entry_id) if 0 < entry_id <= MAX_ID else None
    if entry is None or entry.case_id != case.id:
        raise NotFound("Diarieposten finns inte / Diary entry not found")
    return entry


def _snapshot(entry: DiaryEntry) -> dict:
    # Description and counterpart may name people: the chain keeps a digest of them, the row the text.
    return {"entry_id": entry.id, "number": entry.number, "document_type": entry.document_type, "confidential": entry.confidential,
            "osl_reference": entry.osl_reference, **text_summary(description=entry.description, counterpart=entry.counterpart)}


def correct(session: Session, user: User, case: Case, entry: DiaryEntry, data: DiaryEntryPatch, version: int | None,
            settings: Settings | None = None) -> DiaryEntry:
    """A registrar corrects an entry's registration data (audited before/after); all checked before anything changes."""
    if user.role != Role.REGISTRAR:
        raise Forbidden("Endast registratorn rättar diarieposter / only the registrar corrects diary entries")
    if version is None:
        raise PreconditionRequired("Skicka If-Match med diariepostens version (ETag) / send If-Match with the entry's version")
    if version != entry.version:
        raise StaleVersion(current_version=entry.version)
    changes = data.model_dump(exclude_unset=True)
    errors = []
    for field in ("description", "document_type", "confidential"):
        if field in changes and changes[field] is None:
            errors.append({"field": field, "message": "får inte vara tomt / must not be null"})
    for field in ("description", "document_type", "counterpart", "osl_reference"):
        if isinstance(changes.get(field), str) and CONTROL_CHARS.search(changes[field]):
            errors.append({"field": field, "message": "får inte innehålla styrtecken / must not contain control characters"})
    if isinstance(changes.get("description"), str) and not changes["description"].strip():
        errors.append({"field": "description", "message": "Beskrivning krävs / description required"})
    if changes.get("document_type") is not None and changes["document_type"] not in document_types(settings):
        errors.append({"field": "document_type", "message": "Okänd handlingstyp / unknown document type",
                       "allowed": document_types(settings)})
    confidential = changes["confidential"] if changes.get("confidential") is not None else entry.confidential
    osl = (changes["osl_reference"] if "osl_reference" in changes else entry.osl_reference) or None
    osl = osl.strip() or None if osl else None
    if confidential and not osl:
        errors.append({"field": "osl_reference", "message": "Hänvisning till OSL krävs när handlingen är sekretessmarkerad / "
                                                            "an OSL reference is required when confidential"})
    if errors:
        raise ValidationFailed(errors=errors)
    before = _snapshot(entry)
    for field in ("description", "document_type", "counterpart"):
        if changes.get(field) is not None:
            setattr(entry, field, changes[field].strip())
    entry.confidential = confidential
    entry.osl_reference = osl if confidential else None  # a released entry carries no secrecy reference
    entry.version += 1
    entry.updated_at = utcnow()
    session.flush()
    record(session, actor=user, action="diary.corrected", case_id=case.id, before=before, after=_snapshot(entry))
    return entry


def ensure_may_search(user: User) -> None:
    """The diarium search is the registrar's and the officers' tool."""
    if user.role not in (Role.REGISTRAR, Role.OFFICER):
        raise Forbidden("Diariet söks av registratorer och handläggare / registrars and officers search the diarium")


def search(session: Session, user: User, *, q: str | None = None, date_from: date | None = None, date_to: date | None = None,
           limit: int = SEARCH_LIMIT) -> list[tuple[DiaryEntry, Case]]:
    """Entries of the cases the user sees (officers: their department's), newest first, matching the text and period."""
    ensure_may_search(user)
    if q and CONTROL_CHARS.search(q):
        raise ValidationFailed(errors=[{"field": "q", "message": "får inte innehålla styrtecken / must not contain control characters"}])
    stmt = select(DiaryEntry, Case).join(Case, Case.id == DiaryEntry.case_id).where(visible(user), shown(user))
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(DiaryEntry.description).like(like), func.lower(DiaryEntry.counterpart).like(like),
                              func.lower(DiaryEntry.document_type).like(like), func.lower(Case.diarienummer).like(like),
                              func.lower(Case.title).like(like)))
    if date_from is not None:
        stmt = stmt.where(DiaryEntry.entry_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(DiaryEntry.entry_date <= date_to)
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed(errors=[{"field": "to", "message": "Slutdatum före startdatum / 'to' is before 'from'"}])
    rows = session.execute(stmt.order_by(DiaryEntry.entry_date.desc(), Case.id, DiaryEntry.number.desc()).limit(limit)).all()
    return [(entry, case) for entry, case in rows if can_see(user, case)]


REPORT_MAX = 5000


def period_entries(session: Session, user: User, date_from: date | None, date_to: date | None) -> list[tuple[DiaryEntry, Case]]:
    """Every entry of a period that the user's search shows, oldest first: what the diarium report lists (all or a 422)."""
    ensure_may_search(user)
    errors = [{"field": f, "message": "Ange periodens datum / the period's date is required"}
              for f, value in (("from", date_from), ("to", date_to)) if value is None]
    if date_from and date_to and date_from > date_to:
        errors.append({"field": "to", "message": "Slutdatum före startdatum / 'to' is before 'from'"})
    if errors:
        raise ValidationFailed(errors=errors)
    stmt = (select(DiaryEntry, Case).join(Case, Case.id == DiaryEntry.case_id)
            .where(visible(user), shown(user), DiaryEntry.entry_date >= date_from, DiaryEntry.entry_date <= date_to)
            .order_by(DiaryEntry.entry_date, Case.diarienummer, Case.id, DiaryEntry.number).limit(REPORT_MAX + 1))
    rows = [(entry, case) for entry, case in session.execute(stmt).all() if can_see(user, case)]
    if len(rows) > REPORT_MAX:  # a report is the whole period or nothing: never silently cut
        raise ValidationFailed(f"Perioden har fler än {REPORT_MAX} diarieposter; välj en kortare period / "
                               f"more than {REPORT_MAX} entries in the period, choose a shorter one",
                               errors=[{"field": "to", "message": f"Fler än {REPORT_MAX} diarieposter under perioden"}])
    return rows


def _organisation_name(session: Session, case: Case) -> str:
    from service.organisations.models import Organisation

    org = session.get(Organisation, case.organisation_id)
    return org.name if org else ""


def register_document(session: Session, case: Case, doc: object, user: User | None) -> DiaryEntry:
    """A stored document: received from the organisation, or drawn up here (generated, uploaded by staff, internal ones too)."""
    from service.labels import DOCUMENT_KINDS

    incoming = user is not None and user.role == Role.ORG_MEMBER
    kind = str(doc.kind.value if hasattr(doc.kind, "value") else doc.kind)
    label = DOCUMENT_KINDS.get(doc.kind, kind)
    name = doc.original_filename or doc.filename
    return register(session, case, direction=Direction.INCOMING if incoming else Direction.DRAWN_UP,
                    counterpart=_organisation_name(session, case) if incoming else "", description=f"{label}: {name}",
                    kind=kind, internal=doc.internal, document_id=doc.id)


def register_message(session: Session, case: Case, message: object, user: User) -> DiaryEntry:
    """A message in the thread: from the organisation (inkommande) or to it (utgående)."""
    incoming = user.role == Role.ORG_MEMBER
    # Not the text: a message's personal data is erased in its row (organisations.service), which a copy here would outlive.
    description = "Meddelande från organisationen" if incoming else "Meddelande till organisationen"
    return register(session, case, direction=Direction.INCOMING if incoming else Direction.OUTGOING,
                    counterpart=_organisation_name(session, case), description=description, kind="message", message_id=message.id)


def register_decision(session: Session, case: Case, review: object) -> DiaryEntry:
    """A review decision, drawn up by the department's approver."""
    from service.labels import REVIEW_DECIDED, STAGES

    description = REVIEW_DECIDED.get(review.status, f"Beslut: {review.status}")
    if review.to_stage:
        description += f" (till {STAGES.get(review.to_stage, str(review.to_stage)).lower()})"
    return register(session, case, direction=Direction.DRAWN_UP, description=description, kind="decision", review_id=review.id)


def register_application(session: Session, case: Case, *, completed: bool = False) -> DiaryEntry:
    """The organisation's proposal on submission (inkommande), or its completion after the officer asked for one."""
    description = "Komplettering av ansökan" if completed else f"Ansökan om idéburet offentligt partnerskap: {case.title}"
    return register(session, case, direction=Direction.INCOMING, counterpart=_organisation_name(session, case),
                    description=description, kind="application")


def register_withdrawal(session: Session, case: Case) -> DiaryEntry:
    """The organisation's withdrawal of its proposal (inkommande; the reason stays in the case, not here)."""
    return register(session, case, direction=Direction.INCOMING, counterpart=_organisation_name(session, case),
                    description="Återkallelse av ansökan", kind="withdrawal")


def register_completion_request(session: Session, case: Case) -> DiaryEntry:
    """The officer's request to the organisation to complete its proposal (utgående)."""
    return register(session, case, direction=Direction.OUTGOING, counterpart=_organisation_name(session, case),
                    description="Begäran om komplettering av ansökan", kind="completion_request")


def register_termination(session: Session, case: Case) -> DiaryEntry:
    """An approver's decision to end the partnership early (its decision document is registered when drawn up)."""
    return register(session, case, direction=Direction.DRAWN_UP, description="Beslut om förtida avslut av partnerskapet",
                    kind="decision")


def register_followup_report(session: Session, case: Case, report: object, *, completed: bool = False) -> DiaryEntry:
    """A follow-up report received from the organisation (inkommande), or its completion."""
    what = "Slutrapport" if report.is_final else "Uppföljningsrapport"
    description = f"{what} för perioden {report.period_start.isoformat()} – {report.period_end.isoformat()}"
    return register(session, case, direction=Direction.INCOMING, counterpart=_organisation_name(session, case),
                    description=f"Komplettering av {description[0].lower()}{description[1:]}" if completed else description,
                    kind="followup_report")


def register_followup_assessment(session: Session, case: Case, report: object, assessment: str) -> DiaryEntry:
    """The officer's assessment of a follow-up report, drawn up here."""
    verdict = "godkänd" if assessment == "approved" else "komplettering begärd"
    return register(session, case, direction=Direction.DRAWN_UP,
                    description=f"Bedömning av uppföljningsrapport för perioden {report.period_start.isoformat()} – "
                                f"{report.period_end.isoformat()}: {verdict}", kind="followup_assessment")


def register_signed_agreement(session: Session, case: Case, doc: object) -> DiaryEntry:
    """The agreement once every signatory has e-signed it: one handling, the fully signed PDF (the partly signed
    versions before it are steps of the same signing, not handlingar of their own)."""
    return register(session, case, direction=Direction.DRAWN_UP, counterpart=_organisation_name(session, case),
                    description=f"Undertecknat avtal (e-underskrift av alla parter): {doc.filename}", kind="signed_agreement",
                    document_id=doc.id)
