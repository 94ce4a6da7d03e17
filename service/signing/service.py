"""Signing use cases (API and web alike): invite the agreement's signatories, sign in turn, seal decisions, validate PDFs.

Contract:
- An order is made from the current agreement version (evidence.current_agreement_document): its PDF/A (LibreOffice)
  with a signature page holding one empty field per signatory, stored as an agreement document of the case.
- The signatories are the agreement's named ones (public_party / organisation_party signatory_name and role), each an
  account of the service: the municipality's an officer or approver of the case's department, the organisation's a
  member of the case's organisation. The account's name must be the named signatory's: the signature names the login.
- Each invited signatory signs in the order given; who, when, the sha256 of the PDF they signed and the signed PDF
  (a new signed_agreement version under retention) are recorded, and the party's Signature (method e_signature, the
  signed PDF as its evidence), so the agreement gate needs no scanned copy. Refused: not invited (403), the order of an
  older agreement version or an order completed or superseded (409), someone else's turn (409), signing twice (409).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements import evidence
from service.agreements.models import Agreement, Party, Signature
from service.audit.service import record
from service.auth.models import Role, User
from service.cases.access import ensure_case_officer, ensure_stage
from service.cases.models import Case
from service.cases.stages import Stage
from service.config import Settings
from service.db import utcnow
from service.diarium import service as diarium
from service.documents import service as documents
from service.documents.models import Document, DocumentKind
from service.documents.pdfa import PDF_CONTENT_TYPE
from service.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from service.schemas import MAX_ID
from service.signing import keys, pades
from service.signing.models import OrderStatus, SigningInvitation, SigningOrder
from service.signing.provider import Signer, SigningProvider, get_provider
from storage.base import ObjectStore

log = logging.getLogger(__name__)
PARTY_LABELS = {Party.PUBLIC.value: "Kommunen/regionen", Party.ORGANISATION.value: "Organisationen"}


class SigningFailed(AppError):
    """The provider gave back something that is not the sent PDF with a signature added."""

    status_code = 502
    code = "signing-failed"
    title = "Underskriften kunde inte göras / The signature could not be made"


def _norm(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(errors=[{"field": field, "message": message}])


def _party_terms(agreement: Agreement, party: str) -> dict:
    return (agreement.terms or {}).get("public_party" if party == Party.PUBLIC.value else "organisation_party") or {}


def _check_signatory(session: Session, case: Case, agreement: Agreement, party: str, user_id: int | None, i: int) -> tuple[User, dict]:
    """The invited account, checked against the party and the agreement's named signatory."""
    field = f"signatories.{i}.user_id"
    named = _party_terms(agreement, party)
    if not (named.get("signatory_name") or "").strip():
        raise _refuse(f"signatories.{i}.party", "Avtalet namnger ingen firmatecknare för parten / the agreement names no signatory for the party")
    if user_id is None:
        raise _refuse(field, "Välj undertecknare för parten / choose the party's signatory")
    user = session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None or not user.is_active:
        raise _refuse(field, "Kontot finns inte eller är inaktiverat / no such active account")
    if party == Party.ORGANISATION.value:
        fits = user.role == Role.ORG_MEMBER and user.organisation_id == case.organisation_id
        what = "en medlem i ärendets organisation / a member of the case's organisation"
    else:
        fits = user.role in (Role.OFFICER, Role.APPROVER) and user.department_id == case.department_id
        what = "en handläggare eller beslutsfattare i ärendets förvaltning / staff of the case's department"
    if not fits:
        raise _refuse(field, f"Undertecknaren för parten måste vara {what}")
    if _norm(user.full_name) != _norm(named["signatory_name"]):
        raise _refuse(field, f"Avtalet namnger {named['signatory_name']} som firmatecknare, inte {user.full_name}; "
                             f"underskriften bär inloggningens namn / the account must be the named signatory's")
    return user, named


def invite(session: Session, store: ObjectStore, user: User, case: Case, signatories: Sequence[tuple[str, int | None]], settings: Settings,
           provider: SigningProvider | None = None) -> SigningOrder:
    """The case officer sends the current agreement version to its named signatories, to sign in the order given."""
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.AGREEMENT)
    parties = [p for p, _ in signatories]
    if sorted(parties) != sorted(p.value for p in Party):
        raise _refuse("signatories", "Ange en undertecknare för varje part: kommunen/regionen och organisationen "
                                     "/ one signatory for each party, public and organisation")
    current = evidence.current_agreement_document(session, case.id)
    if current is None:
        raise Conflict("Skapa avtalsdokumentet från de sparade villkoren innan det skickas för underskrift "
                       "/ generate the agreement document from the saved terms first")
    _ensure_not_taken(session, case, current)
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    checked = [_check_signatory(session, case, agreement, party, uid, i) for i, (party, uid) in enumerate(signatories)]
    keys.load_signer(settings)  # 503 before LibreOffice runs when no key is configured
    provider = provider or get_provider(settings)
    specs = [pades.FieldSpec(f"Underskrift{i + 1}", f"{PARTY_LABELS[party]}: {named['signatory_name']}, {named.get('signatory_role') or ''}")
             for i, ((party, _), (_, named)) in enumerate(zip(signatories, checked, strict=True))]
    pdf = documents.pdfa_bytes(store, current, settings)
    prepared = pades.prepare(pdf, f"Underskrifter - {case.diarienummer or ''} {case.title}"[:120], specs)
    stem = PurePosixPath(current.filename).stem or "avtal"
    doc = documents.store_document(session, store, case=case, kind=DocumentKind.AGREEMENT, filename=f"{stem}-v{current.version}-underskrift.pdf",
                                   content=prepared, content_type=PDF_CONTENT_TYPE, user=user, template_name=current.template_name,
                                   template_sha256=current.template_sha256, settings=settings, derived_from=current)
    # LibreOffice ran outside the case's lock (seconds); store_document holds it now: checked again against what committed since.
    for old in _ensure_not_taken(session, case, current):
        old.status = OrderStatus.SUPERSEDED  # nobody signed it (no Signature yet) and a newer version now stands
        record(session, actor=user, action="signing.order_superseded", case_id=case.id,
               after={"signing_order_id": old.id, "by_source_document_id": current.id})
    order = SigningOrder(case_id=case.id, source_document_id=current.id, document_id=doc.id, provider=provider.name, provider_ref="",
                         status=OrderStatus.OPEN, created_by_id=user.id)
    session.add(order)
    session.flush()
    invitations = []
    for i, ((party, _), (signatory, named)) in enumerate(zip(signatories, checked, strict=True)):
        inv = SigningInvitation(order_id=order.id, position=i + 1, party=party, user_id=signatory.id, name=signatory.full_name,
                                role=(named.get("signatory_role") or "").strip() or (signatory.title or ""), field_name=specs[i].name)
        session.add(inv)
        invitations.append(inv)
    session.flush()
    order.provider_ref = provider.create_order(prepared, [_signer(case, agreement, inv, session) for inv in invitations],
                                               reference=f"order-{order.id}", title=f"IOP-avtal {case.diarienummer or case.id}")
    session.flush()
    _tell_next(session, case, agreement, order, settings)
    # Ids and positions only: the signatories' names stay in the rows (the chain cannot forget a name).
    record(session, actor=user, action="signing.order_created", case_id=case.id,
           after={"signing_order_id": order.id, "source_document_id": current.id, "document_id": doc.id, "sha256": doc.sha256,
                  "provider": provider.name, "signatories": [{"position": inv.position, "party": inv.party, "user_id": inv.user_id}
                                                             for inv in invitations]})
    return order


def _ensure_not_taken(session: Session, case: Case, current: Document) -> list[SigningOrder]:
    """409 when a party has signed or this version is already out for signature; the open orders of older versions."""
    if session.scalar(select(Signature.id).where(Signature.case_id == case.id).limit(1)):
        raise Conflict("En part har redan skrivit under; avtalet kan inte skickas för e-underskrift nu / a party has already signed")
    open_orders = list(session.scalars(select(SigningOrder).where(SigningOrder.case_id == case.id, SigningOrder.status == OrderStatus.OPEN)
                                       .execution_options(populate_existing=True)))
    for old in open_orders:
        if old.source_document_id == current.id:
            raise Conflict("Avtalet i gällande version är redan skickat för underskrift / this version is already out for signature",
                           signing_order_id=old.id)
    return open_orders


def _signer(case: Case, agreement: Agreement, inv: SigningInvitation, session: Session) -> Signer:
    named = _party_terms(agreement, inv.party)
    user = session.get(User, inv.user_id)
    party_name = named.get("name") or (case.organisation.name if inv.party == Party.ORGANISATION.value else "")
    return Signer(reference=f"invitation-{inv.id}", party=inv.party, party_name=party_name, name=inv.name, role=inv.role,
                  field_name=inv.field_name, email=user.email if user else None)


def _tell_next(session: Session, case: Case, agreement: Agreement, order: SigningOrder, settings: Settings) -> None:
    """Tell the signatory whose turn it now is (in-app, and e-mail if they want it); nobody once all have signed."""
    from service.notifications.service import notify

    waiting = next((i for i in invitations(session, order) if i.signed_at is None), None)
    if waiting is None or order.status != OrderStatus.OPEN:
        return
    signer = session.get(User, waiting.user_id)
    party_name = _signer(case, agreement, waiting, session).party_name or PARTY_LABELS[waiting.party].lower()
    notify(session, [signer], key=f"signing-requested:{waiting.id}", template="signing_requested", case_id=case.id,
           title=f"Överenskommelse att skriva under: {case.diarienummer or case.id} {case.title}", body="",
           context={"diarienummer": case.diarienummer or f"ärende {case.id}", "case_title": case.title,
                    "organisation_name": case.organisation.name, "case_url": f"{settings.public_base_url}/arenden/{case.id}",
                    "party_name": party_name, "signatory_role": waiting.role})


def get_order(session: Session, case: Case, order_id: int) -> SigningOrder:
    """An order of this case (404 otherwise)."""
    order = session.get(SigningOrder, order_id) if 0 < order_id <= MAX_ID else None
    if order is None or order.case_id != case.id:
        raise NotFound("Underskriftsordern finns inte / signing order not found")
    return order


def invitations(session: Session, order: SigningOrder) -> list[SigningInvitation]:
    """The order's signatories in signing order."""
    return list(session.scalars(select(SigningInvitation).where(SigningInvitation.order_id == order.id).order_by(SigningInvitation.position)))


def orders(session: Session, case: Case) -> list[SigningOrder]:
    """The case's signing orders, newest first."""
    return list(session.scalars(select(SigningOrder).where(SigningOrder.case_id == case.id).order_by(SigningOrder.id.desc())))


def sign(session: Session, store: ObjectStore, user: User, case: Case, order_id: int, settings: Settings,
         provider: SigningProvider | None = None, now: datetime | None = None) -> SigningInvitation:
    """The logged-in, invited signatory signs the order's PDF in their turn (PAdES, visible field with name, role, date)."""
    order = get_order(session, case, order_id)
    steps = invitations(session, order)
    mine = next((inv for inv in steps if inv.user_id == user.id), None)
    if mine is None:
        raise Forbidden("Du är inte inbjuden att skriva under detta avtal / you are not invited to sign this agreement")
    if mine.signed_at is not None:
        raise Conflict("Du har redan skrivit under / you have already signed", signed_at=mine.signed_at.isoformat())
    current = evidence.current_agreement_document(session, case.id)
    if order.status == OrderStatus.SUPERSEDED or current is None or current.id != order.source_document_id:
        raise Conflict("Avtalet har ändrats sedan det skickades för underskrift; den här versionen kan inte längre skrivas under "
                       "/ the agreement has changed since it was sent: this version is outdated", signing_order_id=order.id,
                       current_document_id=current.id if current else None)
    if order.status != OrderStatus.OPEN:
        raise Conflict("Underskriftsordern är avslutad / the signing order is closed", status=order.status)
    ensure_stage(case, Stage.AGREEMENT)
    waiting = next((inv for inv in steps if inv.signed_at is None), None)
    if waiting is not None and waiting.id != mine.id:
        raise Conflict(f"Det är {waiting.name}s tur att skriva under först / {waiting.name} signs first", next_position=waiting.position)
    if session.scalar(select(Signature.id).where(Signature.case_id == case.id, Signature.party == mine.party)):
        raise Conflict("Parten har redan en registrerad underskrift / the party has already signed")
    provider = provider or get_provider(settings)
    source = session.get(Document, order.signed_document_id or order.document_id)
    before = documents.read_content(store, source)
    now = now or utcnow()
    local = now.astimezone(ZoneInfo(settings.timezone))
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    signer = _signer(case, agreement, mine, session)
    try:
        completion = provider.complete(order.provider_ref, signer, before, when=local,
                                       reason=f"Undertecknar överenskommelsen {case.diarienummer or case.id}")
    except pades.PdfUnreadable as exc:
        raise SigningFailed(f"Dokumentet kunde inte skrivas under: {exc}") from exc
    if completion is None:
        raise Conflict("Underskriften görs hos underskriftstjänsten; resultatet kommer med dess återrapportering "
                       "/ the provider completes the signature and reports back")
    return record_completion(session, store, user, case, order, mine, provider.fetch_signed(completion), before, settings, now)


def record_completion(session: Session, store: ObjectStore, user: User | None, case: Case, order: SigningOrder, inv: SigningInvitation,
                      signed: bytes, before: bytes, settings: Settings, now: datetime) -> SigningInvitation:
    """Store a signatory's signed PDF (checked to be the sent bytes plus a signature) and record who signed what, when."""
    if not signed.startswith(before) or len(signed) == len(before) or not signed.startswith(b"%PDF-"):
        raise SigningFailed("Det undertecknade dokumentet är inte det skickade med en underskrift tillagd "
                            "/ the signed PDF is not the sent one with a signature added")
    stem = PurePosixPath(session.get(Document, order.document_id).filename).stem
    signed_from = order.signed_document_id or order.document_id
    doc = documents.store_document(session, store, case=case, kind=DocumentKind.SIGNED_AGREEMENT,
                                   filename=f"{stem}-{inv.position}-av-{len(invitations(session, order))}.pdf", content=signed,
                                   content_type=PDF_CONTENT_TYPE, user=user, settings=settings,
                                   derived_from=session.get(Document, signed_from), retain=True,
                                   audit={"retention": "signed_agreement", "signing_order_id": order.id})
    # The signature was made outside the case's lock (a TSA may take seconds); store_document holds it now: nothing may
    # have been signed on this order meanwhile (a double click, two tabs), or this signature is over an older PDF.
    session.refresh(order)
    session.refresh(inv)
    if inv.signed_at is not None or (order.signed_document_id or order.document_id) != signed_from or order.status != OrderStatus.OPEN:
        raise Conflict("Avtalet skrevs under samtidigt i en annan flik eller av någon annan; ladda om sidan / signed meanwhile, reload")
    inv.signed_at = now
    inv.signed_over_sha256 = hashlib.sha256(before).hexdigest()
    inv.signed_document_id = doc.id
    order.signed_document_id = doc.id
    session.add(Signature(case_id=case.id, party=inv.party, name=inv.name, role=inv.role,
                          signed_on=now.astimezone(ZoneInfo(settings.timezone)).date(), method="e_signature", document_id=doc.id,
                          recorded_by_id=user.id if user else None))
    if all(i.signed_at is not None for i in invitations(session, order)):
        order.status = OrderStatus.COMPLETED
        order.completed_at = now
        diarium.register_signed_agreement(session, case, doc)
    session.flush()
    _tell_next(session, case, session.scalar(select(Agreement).where(Agreement.case_id == case.id)), order, settings)
    record(session, actor=user, action="agreement.e_signed", case_id=case.id,
           after={"signing_order_id": order.id, "invitation_id": inv.id, "position": inv.position, "party": inv.party,
                  "signed_over_sha256": inv.signed_over_sha256, "document_id": doc.id, "sha256": doc.sha256,
                  "completed": order.status == OrderStatus.COMPLETED})
    return inv


# ------------------------------------------------------------------ decisions: the municipality's e-seal

def sealed_copy(session: Session, source: Document) -> Document | None:
    """The sealed PDF made from a decision .docx, if there is one."""
    return session.scalar(select(Document).where(Document.case_id == source.case_id, Document.kind == DocumentKind.DECISION,
                                                 Document.content_type == PDF_CONTENT_TYPE, Document.id > source.id,
                                                 Document.review_id.is_(None) if source.review_id is None
                                                 else Document.review_id == source.review_id,
                                                 Document.filename.like("%-sigill.pdf")).limit(1))


def seal_decision(session: Session, store: ObjectStore, source: Document, settings: Settings, now: datetime | None = None) -> Document:
    """A decision's PDF/A with the municipality's e-seal (PAdES, a visible seal field), stored beside its .docx under retention."""
    if source.kind != DocumentKind.DECISION:
        raise Conflict("Bara beslut förseglas / only decisions are sealed", document_id=source.id)
    existing = sealed_copy(session, source)
    if existing is not None:
        return existing
    signer = keys.load_signer(settings)
    case = session.get(Case, source.case_id)
    # The seal names its holder as the certificate does (the municipality), not the department's configured name.
    holder = signer.signing_cert.subject.native.get("organization_name") or case.department.municipality
    pdf = documents.pdfa_bytes(store, source, settings)
    prepared = pades.prepare(pdf, f"Beslut {case.diarienummer or case.id} - elektroniskt sigill",
                             [pades.FieldSpec("Sigill", f"Sigill: {holder}")])
    now = now or utcnow()
    sealed = pades.sign(prepared, settings, field_name="Sigill", name=holder, role=f"Beslut {case.diarienummer or ''}".strip(),
                        party="seal", when=now.astimezone(ZoneInfo(settings.timezone)),
                        reason=f"Beslut i ärende {case.diarienummer or case.id}", signer=signer)
    stem = PurePosixPath(source.filename).stem or "beslut"
    doc = documents.store_document(session, store, case=case, kind=DocumentKind.DECISION, filename=f"{stem}-v{source.version}-sigill.pdf",
                                   content=sealed, content_type=PDF_CONTENT_TYPE, user=None, template_name=source.template_name,
                                   template_sha256=source.template_sha256, internal=source.internal, settings=settings,
                                   derived_from=source, review_id=source.review_id, retain=True, audit={"sealed": True})
    record(session, actor=None, action="document.sealed", case_id=case.id,
           after={"source_document_id": source.id, "document_id": doc.id, "sha256": doc.sha256})
    return doc


# ------------------------------------------------------------------ validation

def verify(store: ObjectStore, doc: Document, settings: Settings) -> pades.DocumentReport:
    """Validate every signature of a stored PDF against the configured trust roots (409 for anything but a PDF)."""
    if doc.content_type != PDF_CONTENT_TYPE:
        raise Conflict("Bara PDF-dokument kan ha elektroniska underskrifter / only PDF documents carry signatures",
                       document_id=doc.id, content_type=doc.content_type)
    return pades.validate(documents.read_content(store, doc), keys.trust_roots(settings))
