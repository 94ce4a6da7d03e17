"""Signing endpoints: send the agreement for signature, sign in turn, validate a PDF's signatures."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends

from service.cases.access import get_visible_case
from service.deps import AppSettings, CurrentUser, DbSession
from service.documents import service as documents
from service.idempotency import IdempotencyKey
from service.signing import keys, service
from service.signing.models import SigningOrder
from service.signing.schemas import DocumentSignaturesOut, InvitationOut, SigningOrderIn, SigningOrderOut
from service.schemas import Id
from storage.base import ObjectStore

router = APIRouter(tags=["signing"])
Store = Annotated[ObjectStore, Depends(documents.get_store)]


def order_out(session, order: SigningOrder) -> SigningOrderOut:  # noqa: ANN001
    """An order with its signatories in turn."""
    out = SigningOrderOut.model_validate(order)
    out.invitations = [InvitationOut.model_validate(i) for i in service.invitations(session, order)]
    return out


@router.post("/cases/{case_id}/signing-orders", response_model=SigningOrderOut, status_code=201)
def create_order(case_id: Id, data: SigningOrderIn, session: DbSession, user: CurrentUser, store: Store, settings: AppSettings,
                 idem: IdempotencyKey) -> object:
    """The case officer sends the current agreement version (PDF/A with a signature page) to its named signatories, in this order."""
    case = get_visible_case(session, user, case_id)
    return idem.run(session, user.id, data, SigningOrderOut, lambda: order_out(session, service.invite(
        session, store, user, case, [(s.party, s.user_id) for s in data.signatories], settings)))


@router.get("/cases/{case_id}/signing-orders", response_model=list[SigningOrderOut])
def list_orders(case_id: Id, session: DbSession, user: CurrentUser) -> list[SigningOrderOut]:
    """The case's signing orders, newest first, with who has signed."""
    case = get_visible_case(session, user, case_id)
    return [order_out(session, o) for o in service.orders(session, case)]


@router.post("/cases/{case_id}/signing-orders/{order_id}/sign", response_model=InvitationOut)
def sign(case_id: Id, order_id: Id, session: DbSession, user: CurrentUser, store: Store, settings: AppSettings) -> object:
    """The logged-in signatory signs in their turn (403 when not invited; 409 on an outdated version, out of turn or twice)."""
    case = get_visible_case(session, user, case_id)
    return service.sign(session, store, user, case, order_id, settings)


@router.get("/cases/{case_id}/documents/{doc_id}/signatures", response_model=DocumentSignaturesOut)
def document_signatures(case_id: Id, doc_id: Id, session: DbSession, user: CurrentUser, store: Store,
                        settings: AppSettings) -> DocumentSignaturesOut:
    """Validate every signature of a stored PDF now: intact, whole document covered, signer, time, chain to the trust roots."""
    doc = documents.get_visible_document(session, user, get_visible_case(session, user, case_id), doc_id)
    report = service.verify(store, doc, settings)
    return DocumentSignaturesOut(document_id=doc.id, sha256=doc.sha256, valid=report.valid, error=report.error,
                                 trust_roots_configured=bool(keys.trust_roots(settings)),
                                 signatures=[asdict(s) for s in report.signatures])
