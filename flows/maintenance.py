"""storage_maintenance: remove stored objects that no document row refers to (daily)."""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import flow, get_run_logger

from flows.runtime import session_factory
from service.documents import service as documents


@flow(name="storage_maintenance", log_prints=False)
async def storage_maintenance(older_than_hours: float = 24.0, now: datetime | None = None) -> dict[str, int]:
    """Sweep orphaned objects (an upload whose transaction rolled back) older than ``older_than_hours``.

    Versions under retention (signed agreements) are kept and reported as ``locked``; they go
    on a later run after their retention has ended. Storage being down fails the run; the next
    daily run catches up.
    """
    log = get_run_logger()
    factory = session_factory()
    with factory() as s:  # read-only: each read ends its transaction at once (SQLite writers are not held up)
        result = documents.sweep_orphans(s, documents.get_store(), older_than=timedelta(hours=older_than_hours), now=now,
                                         end_read=s.rollback)
    summary = result.summary()
    if result.failed:
        log.warning("storage maintenance could not delete %d orphan(s): %s", len(result.failed), result.failed[:20])
    log.info("storage maintenance: %s", summary)
    return summary
