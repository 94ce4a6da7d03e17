"""What proves a signature: the signed agreement of the agreement version that is in force now.

Contract:
- The current version is the newest generated agreement document (kind agreement, the .docx from the template). Terms saved after
  it are not what anyone signed: until it is generated again there is no current version.
- Evidence is a signed_agreement document of the same case stored after that version (ids grow with time), never
  minutes, an attachment or a signed copy of an earlier version.
- A signature is dated between the day the current version was drawn up (local time) and today, both included.
- An e-signature needs its evidence (the signed file); a signed paper copy may name it later, when it is uploaded,
  and the agreement gate then asks for a signed copy of the current version.
- A signature made in the service (service/signing: PAdES, signed in turn) is an e-signature whose evidence is the signed
  PDF it stored, a signed_agreement of the current version: the same rule, so the gate needs no scanned copy. It is
  part of that PDF, so it cannot be corrected or removed as a record (e_signed_in_pdf).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement, Signature
from service.cases.models import Case
from service.config import get_settings
from service.documents.models import Document, DocumentKind
from service.documents.rendering import DOCX_CONTENT_TYPE
from service.errors import Conflict, ValidationFailed
from service.schemas import MAX_ID
from service.signing.models import SigningInvitation


def current_agreement_document(session: Session, case_id: int) -> Document | None:
    """The newest generated agreement (.docx from the template), if it was generated after the terms last changed."""
    doc = session.scalar(
        select(Document).where(Document.case_id == case_id, Document.kind == DocumentKind.AGREEMENT, Document.template_name.is_not(None),
                               Document.content_type == DOCX_CONTENT_TYPE)  # not its PDF/A copy, made later from the same version
        .order_by(Document.id.desc()).limit(1)
    )
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case_id))
    if doc is None or agreement is None or (agreement.updated_at and doc.created_at < agreement.updated_at):
        return None
    return doc


def signed_copies(session: Session, case_id: int) -> list[Document]:
    """Signed agreements of the current version, newest first."""
    current = current_agreement_document(session, case_id)
    if current is None:
        return []
    return list(session.scalars(
        select(Document).where(Document.case_id == case_id, Document.kind == DocumentKind.SIGNED_AGREEMENT, Document.id > current.id)
        .order_by(Document.id.desc())
    ))


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(errors=[{"field": "document_id", "message": message}])


def ensure_evidence(session: Session, case: Case, *, document_id: int | None, method: str, signed_on: date, today: date) -> None:
    """422/409 unless the signature's evidence and date fit the current agreement version."""
    current = current_agreement_document(session, case.id)
    if current is None:
        raise Conflict("Skapa avtalsdokumentet från de sparade villkoren innan underskrifter registreras "
                       "/ generate the agreement document from the saved terms before recording signatures")
    if signed_on > today:
        raise ValidationFailed(errors=[{"field": "signed_on", "message": "Ett datum i framtiden kan inte vara ett underskriftsdatum / cannot be in the future"}])
    drawn_up = current.created_at.astimezone(ZoneInfo(get_settings().timezone)).date()
    if signed_on < drawn_up:
        # Nobody signs a version before it exists: an earlier date is a typo or a signature of an older version.
        raise ValidationFailed(errors=[{"field": "signed_on", "message": f"Avtalet i gällande version upprättades {drawn_up.isoformat()}; "
                                        f"underskriftsdatumet kan inte vara tidigare / the current agreement was drawn up on "
                                        f"{drawn_up.isoformat()}; a signature cannot be dated earlier"}])
    if document_id is None:
        if method == "e_signature":
            raise _refuse("En e-underskrift kräver det undertecknade avtalet (PDF) som bevis / an e-signature needs the signed agreement as evidence")
        return
    doc = session.get(Document, document_id) if 0 < document_id <= MAX_ID else None
    if doc is None or doc.case_id != case.id:
        raise _refuse("Dokumentet hör inte till ärendet / not a document of this case")
    if doc.kind != DocumentKind.SIGNED_AGREEMENT:
        raise _refuse("Beviset måste vara ett undertecknat avtal, inte ett annat dokument / the evidence must be a signed agreement")
    if doc.id < current.id:
        raise _refuse(f"Det undertecknade avtalet gäller en äldre version än avtalsdokumentet version {current.version} "
                      f"/ the signed copy is of an earlier agreement version")


def e_signed_in_pdf(session: Session, signature: Signature) -> bool:
    """True when the signature was made by the service's signing (its evidence is the PDF the signatory's signature went into)."""
    return signature.method == "e_signature" and signature.document_id is not None and session.scalar(
        select(SigningInvitation.id).where(SigningInvitation.signed_document_id == signature.document_id,
                                           SigningInvitation.party == signature.party).limit(1)) is not None
