"""Agreement terms and signatures."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from service.agreements.models import Agreement, Signature
from service.agreements.schemas import AgreementOut, AgreementTerms, SignatureIn, SignatureOut
from service.audit.service import record
from service.auth.models import Role
from service.cases.access import ensure_case_officer, ensure_stage, get_visible_case
from service.cases.service import has_pending_review
from service.cases.stages import Stage
from service.deps import CurrentUser, DbSession
from service.documents.models import Document
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.schemas import Id

router = APIRouter(tags=["agreements"])


@router.put("/cases/{case_id}/agreement", response_model=AgreementOut)
def put_terms(case_id: Id, terms: AgreementTerms, session: DbSession, user: CurrentUser) -> Agreement:
    """The officer writes the complete, validated agreement terms."""
    case = get_visible_case(session, user, case_id)
    ensure_case_officer(user, case)
    ensure_stage(case, Stage.DIALOGUE, Stage.AGREEMENT)
    if has_pending_review(session, case.id):
        raise Conflict("Ärendet granskas och är låst / case is locked while under review")
    if session.scalar(select(Signature.id).where(Signature.case_id == case.id)):
        raise Conflict("Avtalet är undertecknat; ändringar kräver ett tilläggsavtal / agreement already signed")
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    before = agreement.terms if agreement else None
    if agreement is None:
        agreement = Agreement(case_id=case.id)
        session.add(agreement)
    agreement.terms = terms.model_dump(mode="json")
    agreement.funding_amount_sek = terms.funding_amount_sek
    agreement.period_start = terms.period_start
    agreement.period_end = terms.period_end
    agreement.updated_by_id = user.id
    session.flush()
    record(session, actor=user, action="agreement.terms_saved", case_id=case.id, before=before, after=agreement.terms)
    return agreement


@router.get("/cases/{case_id}/agreement", response_model=AgreementOut)
def get_terms(case_id: Id, session: DbSession, user: CurrentUser) -> Agreement:
    """The agreement terms of a case."""
    case = get_visible_case(session, user, case_id)
    agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    if agreement is None:
        raise NotFound("Inga avtalsvillkor ännu / no agreement terms yet")
    return agreement


@router.post("/cases/{case_id}/signatures", response_model=SignatureOut, status_code=201)
def add_signature(case_id: Id, data: SignatureIn, session: DbSession, user: CurrentUser) -> Signature:
    """Record a party's signature (officer records both; the organisation may record its own)."""
    case = get_visible_case(session, user, case_id)
    if user.role == Role.ORG_MEMBER:
        if data.party != "organisation":
            raise Forbidden("Organisationen registrerar bara sin egen underskrift / only your own party")
    else:
        ensure_case_officer(user, case)
    ensure_stage(case, Stage.AGREEMENT)
    if session.scalar(select(Agreement.id).where(Agreement.case_id == case.id)) is None:
        raise Conflict("Avtalsvillkoren saknas / agreement terms missing")
    if data.document_id is not None:
        doc = session.get(Document, data.document_id)
        if doc is None or doc.case_id != case.id:
            raise ValidationFailed(errors=[{"field": "document_id", "message": "Dokumentet hör inte till ärendet / not a document of this case"}])
    if session.scalar(select(Signature.id).where(Signature.case_id == case.id, Signature.party == data.party)):
        raise Conflict("Parten har redan skrivit under / party already signed")
    sig = Signature(case_id=case.id, recorded_by_id=user.id, **data.model_dump())
    session.add(sig)
    session.flush()
    record(session, actor=user, action="agreement.signed", case_id=case.id, after=data.model_dump(mode="json"))
    return sig


@router.get("/cases/{case_id}/signatures", response_model=list[SignatureOut])
def list_signatures(case_id: Id, session: DbSession, user: CurrentUser) -> list[Signature]:
    """Recorded signatures."""
    case = get_visible_case(session, user, case_id)
    return list(session.scalars(select(Signature).where(Signature.case_id == case.id).order_by(Signature.id)))
