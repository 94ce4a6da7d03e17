"""Maintenance flows: fresh orphans every 15 minutes, the full maintenance daily.

``orphan_sweep`` removes stored objects that no document (or template) row refers to once they are an hour old
(a commit that failed, or a frozen S3 that carried out a buffered upload after the API had answered
503), so they are gone within about 75 minutes instead of two days. ``storage_maintenance`` (daily)
sweeps again with its own age and deletes expired Idempotency-Keys in batches, each batch its own
transaction. Storage being down fails a run; the next run catches up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import flow, get_run_logger

from flows.runtime import session_factory
from service import idempotency
from service.config import get_settings
from service.doctemplates import service as doctemplates
from service.documents import service as documents


def _sweep(older_than_hours: float, now: datetime | None) -> dict[str, int]:
    """One orphan sweep on the configured store; its summary."""
    log = get_run_logger()
    factory = session_factory()
    store, age = documents.get_store(), timedelta(hours=older_than_hours)
    with factory() as s:  # read-only: each read ends its transaction at once (SQLite writers are not held up)
        results = [documents.sweep_orphans(s, store, older_than=age, now=now, end_read=s.rollback),
                   doctemplates.sweep_orphans(s, store, older_than=age, now=now, end_read=s.rollback)]
    summary = {k: sum(r.summary()[k] for r in results) for k in results[0].summary()}
    failed = [name for r in results for name in r.failed]
    if failed:
        log.warning("orphan sweep could not delete %d orphan(s): %s", len(failed), failed[:20])
    log.info("orphan sweep: %s", summary)
    return summary


def expire_idempotency_keys(now: datetime | None = None, batch: int | None = None) -> int:
    """Delete expired Idempotency-Key records batch by batch (short transactions); how many went."""
    factory = session_factory()
    limit = batch or get_settings().idempotency_cleanup_batch
    total = 0
    while True:
        with factory() as s, s.begin():
            n = idempotency.delete_expired(s, now=now, batch=limit)
        total += n
        if n < limit:
            return total


@flow(name="orphan_sweep", log_prints=False)
async def orphan_sweep(older_than_hours: float = 1.0, now: datetime | None = None) -> dict[str, int]:
    """Sweep orphaned objects older than ``older_than_hours`` (every 15 min; one flow run per sweep)."""
    return _sweep(older_than_hours, now)


@flow(name="storage_maintenance", log_prints=False)
async def storage_maintenance(older_than_hours: float = 24.0, now: datetime | None = None) -> dict[str, int]:
    """Daily: expire Idempotency-Keys, then sweep orphans older than ``older_than_hours``.

    Versions under retention (signed agreements) are kept and reported as ``locked``; they go
    on a later run after their retention has ended.
    """
    expired = expire_idempotency_keys(now=now)
    get_run_logger().info("storage maintenance: %d expired idempotency key(s) deleted", expired)
    return {**_sweep(older_than_hours, now), "idempotency_keys_expired": expired}
