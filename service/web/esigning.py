"""The case page's electronic signing section: orders and turns, whom the officer can invite, and every signature validated now."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements import evidence
from service.agreements.models import Agreement, Party, Signature
from service.auth.models import Role, User
from service.cases.access import documents_shown
from service.cases.models import Case
from service.cases.stages import Stage
from service.config import Settings
from service.documents import service as documents
from service.documents.models import Document, DocumentKind
from service.documents.pdfa import PDF_CONTENT_TYPE, pdfa_available
from service.errors import AppError
from service.signing import keys, pades
from service.signing import service as signing
from service.signing.models import OrderStatus, SigningInvitation, SigningOrder
from storage.base import ObjectStore

log = logging.getLogger(__name__)
ORDER_STATUS = {OrderStatus.OPEN: "Pågår", OrderStatus.COMPLETED: "Undertecknat av alla", OrderStatus.SUPERSEDED: "Ersatt av en nyare version"}


@dataclass
class Check:
    """One stored PDF and what validation says of its signatures now."""

    document: Document
    report: pades.DocumentReport | None
    error: str | None = None


@dataclass
class OrderView:
    """An order with its signatories in turn."""

    order: SigningOrder
    steps: list[SigningInvitation]
    status_label: str
    my_turn: bool = False


@dataclass
class ESigningView:
    """What the signing section shows this viewer."""

    orders: list[OrderView] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    can_invite: bool = False
    # Per party: the named signatory (name, role) and the accounts that may sign as them.
    candidates: dict[str, tuple[str, str, list[User]]] = field(default_factory=dict)
    configured: bool = False
    trust_roots: bool = False

    @property
    def shown(self) -> bool:
        """Whether there is anything to show or do."""
        return bool(self.orders or self.checks or self.can_invite)


def request_store(request: Request) -> ObjectStore:
    """The store the request's routes get (dependency overrides included), for a page rendered outside a route's parameters."""
    return request.app.dependency_overrides.get(documents.get_store, documents.get_store)()


def _candidates(session: Session, case: Case, agreement: Agreement) -> dict[str, tuple[str, str, list[User]]]:
    out = {}
    for party, key in ((Party.ORGANISATION.value, "organisation_party"), (Party.PUBLIC.value, "public_party")):
        named = (agreement.terms or {}).get(key) or {}
        name = " ".join((named.get("signatory_name") or "").split())
        if party == Party.ORGANISATION.value:
            who = select(User).where(User.role == Role.ORG_MEMBER, User.organisation_id == case.organisation_id)
        else:
            who = select(User).where(User.role.in_((Role.OFFICER, Role.APPROVER)), User.department_id == case.department_id)
        accounts = [u for u in session.scalars(who.where(User.is_active.is_(True)).order_by(User.full_name))
                    if name and " ".join(u.full_name.split()).casefold() == name.casefold()]
        out[party] = (name, named.get("signatory_role") or "", accounts)
    return out


def load(session: Session, store: ObjectStore, user: User, case: Case, settings: Settings) -> ESigningView:
    """The orders, the viewer's turn, whom to invite, and the validation of every e-signed or sealed PDF the viewer sees."""
    view = ESigningView(configured=keys.configured(settings), trust_roots=bool(keys.trust_roots(settings)))
    for order in signing.orders(session, case):
        steps = signing.invitations(session, order)
        waiting = next((s for s in steps if s.signed_at is None), None)
        view.orders.append(OrderView(order, steps, ORDER_STATUS.get(OrderStatus(order.status), order.status),
                                     my_turn=order.status == OrderStatus.OPEN and waiting is not None and waiting.user_id == user.id))
    current = evidence.current_agreement_document(session, case.id)
    officer = user.role == Role.OFFICER and user.department_id == case.department_id
    if officer and case.stage == Stage.AGREEMENT and current is not None and view.configured and pdfa_available():
        signed = session.scalar(select(Signature.id).where(Signature.case_id == case.id).limit(1)) is not None
        out_now = any(o.order.status == OrderStatus.OPEN and o.order.source_document_id == current.id for o in view.orders)
        agreement = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
        if not signed and not out_now and agreement is not None:
            view.can_invite = True
            view.candidates = _candidates(session, case, agreement)
    ids = {o.order.signed_document_id for o in view.orders if o.order.signed_document_id}
    pdfs = session.scalars(select(Document).where(Document.case_id == case.id, documents_shown(user), Document.content_type == PDF_CONTENT_TYPE,
                                                  (Document.id.in_(ids)) | ((Document.kind == DocumentKind.DECISION)
                                                                            & Document.filename.like("%-sigill.pdf")))
                           .order_by(Document.id.desc()))
    for doc in pdfs:
        try:
            view.checks.append(Check(doc, signing.verify(store, doc, settings)))
        except AppError as exc:  # storage down or the object gone: said on the page, never taken for valid
            view.checks.append(Check(doc, None, error=exc.detail))
    return view
