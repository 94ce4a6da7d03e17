"""What follows an approved gallring decision, after commit: its objects are deleted (what is under lock waits)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.db import utcnow
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler, RetryLater
from service.retention import service
from service.retention.models import DisposalDecision
from storage.base import StorageUnavailable


def execute_decision(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Execute one approved decision now (idempotent: gallrade items are skipped, a deleted object is found gone)."""
    decision = session.get(DisposalDecision, event.payload["decision_id"])
    if decision is None:
        return
    try:
        service.execute(session, ctx.store_factory(), decision, utcnow())
    except StorageUnavailable as exc:
        raise RetryLater(f"storage unavailable: {exc}") from exc


HANDLERS: dict[str, Handler] = {service.EXECUTE_TOPIC: execute_decision}
