"""Audit trail: read and verify the chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.audit.service import stream_for, verify
from service.auth.models import Role
from service.cases.access import get_visible_case
from service.deps import CurrentUser, DbSession
from service.errors import Forbidden
from service.schemas import Id, ORMModel

router = APIRouter(tags=["audit"])


class AuditEventOut(ORMModel):
    """One audit event."""

    seq: int
    actor_label: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime
    prev_hash: str
    hash: str


class ChainOut(ORMModel):
    """Result of verifying a chain."""

    stream: str
    valid: bool
    events: int
    broken_at_seq: int | None
    reason: str | None


def _ensure_auditor(user) -> None:  # noqa: ANN001
    if user.role not in (Role.REGISTRAR, Role.OFFICER, Role.APPROVER):
        raise Forbidden("Revisionsloggen visas för registratorer och handläggare / audit is for civil servants")


@router.get("/cases/{case_id}/audit", response_model=list[AuditEventOut])
def case_audit(case_id: Id, session: DbSession, user: CurrentUser) -> list[AuditEvent]:
    """Every recorded change of a case, in order."""
    case = get_visible_case(session, user, case_id)
    _ensure_auditor(user)
    return list(session.scalars(select(AuditEvent).where(AuditEvent.stream == stream_for(case.id, None)).order_by(AuditEvent.seq)))


@router.get("/cases/{case_id}/audit/verify", response_model=ChainOut)
def verify_case_chain(case_id: Id, session: DbSession, user: CurrentUser) -> Any:
    """Recompute the case's hash chain; reports the first broken event."""
    case = get_visible_case(session, user, case_id)
    _ensure_auditor(user)
    return verify(session, stream_for(case.id, None))
