"""Gallring endpoints for registrars: what is due, the proposed list, approving it, and the decisions made."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from service.deps import CurrentUser, DbSession
from service.errors import Conflict
from service.retention import service
from service.retention.models import DisposalDecision
from service.retention.schemas import Approval, DecisionOut, DueOut, ItemOut
from service.schemas import Id

router = APIRouter(prefix="/retention", tags=["retention"])


def decision_out(session: Session, decision: DisposalDecision) -> DecisionOut:
    """The API shape of a decision with its items."""
    return DecisionOut(id=decision.id, status=decision.status, created_at=decision.created_at, created_by_id=decision.created_by_id,
                       approved_by_id=decision.approved_by_id, approved_at=decision.approved_at, executed_at=decision.executed_at,
                       items=[ItemOut(id=i.id, document_id=i.document_id, case_id=i.case_id, document_type=i.document_type, rule=i.rule,
                                      closed_at=i.closed_at, due_at=i.due_at, status=i.status, state=service.state_label(i),
                                      locked_until=i.locked_until, disposed_at=i.disposed_at)
                              for i in service.items(session, decision)])


@router.get("/due", response_model=list[DueOut])
def due(session: DbSession, user: CurrentUser) -> list[DueOut]:
    """Documents of closed cases whose retention period under the informationshanteringsplan has passed."""
    service.ensure_registrar(user)
    return [DueOut(document_id=d.document.id, case_id=d.case.id, diarienummer=d.case.diarienummer, filename=d.document.filename,
                   document_type=d.document_type, rule=d.rule.label, closed_at=d.closed_at, due_at=d.due_at, listed_in=d.listed_in)
            for d in service.due_for_gallring(session)]


@router.post("/decisions", response_model=DecisionOut, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": DecisionOut, "description": "Nothing new was due: the open list as it is"}})
def propose(session: DbSession, user: CurrentUser, response: Response) -> DecisionOut:
    """Put everything due on the proposed gallring list (made if none is open); 409 when nothing is due and no list is open."""
    service.ensure_registrar(user)
    decision, added = service.propose(session, actor=user)
    if decision is None:
        raise Conflict("Inga handlingar är mogna för gallring / nothing is due for gallring")
    if not added:
        response.status_code = status.HTTP_200_OK
    return decision_out(session, decision)


@router.get("/decisions", response_model=list[DecisionOut])
def decisions(session: DbSession, user: CurrentUser) -> list[DecisionOut]:
    """The latest gallring decisions, newest first."""
    service.ensure_registrar(user)
    return [decision_out(session, d) for d in service.list_decisions(session)]


@router.get("/decisions/{decision_id}", response_model=DecisionOut)
def decision(decision_id: Id, session: DbSession, user: CurrentUser) -> DecisionOut:
    """One gallring decision with its items."""
    service.ensure_registrar(user)
    return decision_out(session, service.get_decision(session, decision_id))


@router.post("/decisions/{decision_id}/approve", response_model=DecisionOut)
def approve(decision_id: Id, data: Approval, session: DbSession, user: CurrentUser) -> DecisionOut:
    """A registrar approves the list (all items, or `item_ids`); the objects are deleted after the commit."""
    service.ensure_registrar(user)
    found = service.approve(session, user, service.get_decision(session, decision_id), data.item_ids)
    return decision_out(session, found)
