"""Write outbox events with the change; process them later with retries and idempotent handlers.

Contract: `process` leases a batch of due events (FOR UPDATE SKIP LOCKED + lease), opens one mail connection for the
batch (the mailer's `connection()`, if it has one) and runs each handler in a transaction of its own: an event is
processed when its transaction commits, a failure is retried with backoff (RetryLater or any exception) or recorded
for good (GiveUp, MAX_ATTEMPTS). A batch stops taking events halfway through its lease and gives the rest back. A
crash after a handler's side effect and before its commit repeats the side effect on the retry (e-mails carry a
Message-ID derived from the event's key, so the copy is recognisable).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.outbox.kick import mark
from service.outbox.models import OutboxEvent

log = logging.getLogger("iop.outbox")
MAX_ATTEMPTS = 12
LEASE = timedelta(minutes=5)


class RetryLater(Exception):
    """A transient failure (SMTP or storage down): keep the event and try again later."""


class GiveUp(Exception):
    """A permanent failure: record it and stop retrying."""


def emit(session: Session, topic: str, payload: dict[str, Any], *, case_id: int | None = None,
         available_at: datetime | None = None) -> OutboxEvent:
    """Add an event in the caller's transaction (it exists only if the change commits)."""
    event = OutboxEvent(topic=topic, payload=payload, case_id=case_id, available_at=available_at or utcnow())
    session.add(event)
    session.flush()
    mark(session)  # kick process_outbox once this transaction commits
    return event


def emit_many(session: Session, topic: str, events: list[tuple[dict[str, Any], int | None]]) -> list[OutboxEvent]:
    """Add many events of one topic, (payload, case_id) each, in one flush (a sweep's escalations)."""
    now = utcnow()
    rows = [OutboxEvent(topic=topic, payload=payload, case_id=case_id, available_at=now) for payload, case_id in events]
    if rows:
        session.add_all(rows)
        session.flush()
        mark(session)
    return rows


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 1 h."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def claim(session: Session, now: datetime, limit: int) -> list[int]:
    """Lease a batch of due events to this worker."""
    ids = list(session.scalars(
        select(OutboxEvent.id).where(OutboxEvent.processed_at.is_(None), OutboxEvent.failed_at.is_(None), OutboxEvent.available_at <= now,
                                     (OutboxEvent.locked_until.is_(None)) | (OutboxEvent.locked_until < now))
        .order_by(OutboxEvent.id).limit(limit).with_for_update(skip_locked=True)
    ))
    if ids:
        session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(locked_until=now + LEASE)
                        .execution_options(synchronize_session=False))
    return ids


Handler = Callable[[Session, OutboxEvent, "Context"], None]


@dataclass
class Context:
    """What handlers need besides the session: settings, mail, storage."""

    settings: Any
    mailer: Any
    store_factory: Callable[[], Any]
    handlers: dict[str, Handler] = field(default_factory=dict)


@dataclass
class BatchResult:
    """Counts of one processing run."""

    processed: int = 0
    retried: int = 0
    failed: int = 0
    claimed: int = 0
    released: int = 0


def process(factory: sessionmaker[Session], ctx: Context, *, now: datetime | None = None, limit: int = 100) -> BatchResult:
    """Claim due events and run each handler in its own transaction, over one mail connection."""
    now = now or utcnow()
    with factory() as s, s.begin():
        ids = claim(s, now, limit)
    result = BatchResult(claimed=len(ids))
    if not ids:
        return result
    opener = getattr(ctx.mailer, "connection", None)
    with opener() if opener is not None else nullcontext(ctx.mailer) as mailer:
        _run(factory, replace(ctx, mailer=mailer), ids, result)
    return result


def _run(factory: sessionmaker[Session], ctx: Context, ids: list[int], result: BatchResult) -> None:
    started = time.monotonic()
    for n, event_id in enumerate(ids):
        if time.monotonic() - started > LEASE.total_seconds() / 2:
            # Past half the lease another worker may soon take these: give them back now rather than race it.
            with factory() as s, s.begin():
                s.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids[n:]), OutboxEvent.processed_at.is_(None))
                          .values(locked_until=None).execution_options(synchronize_session=False))
            result.released = len(ids) - n
            return
        try:
            with factory() as s, s.begin():
                event = s.get(OutboxEvent, event_id)
                if event is None or event.processed_at is not None:
                    continue
                handler = ctx.handlers.get(event.topic)
                if handler is None:
                    raise GiveUp(f"no handler for topic {event.topic}")
                handler(s, event, ctx)
                event.processed_at = utcnow()
                event.locked_until = None
            result.processed += 1
        except GiveUp as exc:
            _record_failure(factory, event_id, str(exc), permanent=True)
            result.failed += 1
        except Exception as exc:  # noqa: BLE001 - any other failure is retried with backoff
            log.warning("outbox event %s failed: %s", event_id, exc)
            permanent = _record_failure(factory, event_id, f"{type(exc).__name__}: {exc}", permanent=False)
            result.failed += permanent
            result.retried += not permanent


def _record_failure(factory: sessionmaker[Session], event_id: int, error: str, *, permanent: bool) -> bool:
    with factory() as s, s.begin():
        event = s.get(OutboxEvent, event_id)
        event.attempts += 1
        event.last_error = error[:4000]
        event.locked_until = None
        if permanent or event.attempts >= MAX_ATTEMPTS:
            event.failed_at = utcnow()
            return True
        event.available_at = utcnow() + backoff(event.attempts)
        return False
