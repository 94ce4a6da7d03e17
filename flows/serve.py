"""Serve every deployment from one process: `python -m flows.serve`."""

from __future__ import annotations

import flows  # noqa: F401  (analytics off before Prefect loads)
from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from flows.archive_export import archive_export
from flows.deadline_sweep import deadline_sweep
from flows.gallring import gallring_sweep
from flows.maintenance import orphan_sweep, storage_maintenance
from flows.outbox import process_outbox


OUTBOX_CONCURRENCY = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def deployments() -> list:
    """The deployments: sweep every 5 min, outbox every 30 s, fresh orphans every 15 min, full maintenance and gallring daily."""
    return [
        deadline_sweep.to_deployment(name="every-5-min", cron="*/5 * * * *"),
        # One outbox run at a time: a burst of kicks queues (at most one waiting, see service/outbox/kick.py) instead of
        # starting a ~130 MB flow-run process each.
        process_outbox.to_deployment(name="every-30-s", interval=30, concurrency_limit=OUTBOX_CONCURRENCY),
        orphan_sweep.to_deployment(name="every-15-min", cron="*/15 * * * *"),
        storage_maintenance.to_deployment(name="daily", schedule=Cron("30 3 * * *", timezone="Europe/Stockholm")),
        # No schedule: the outbox starts a run per export job (service/archive/effects.py).
        archive_export.to_deployment(name="on-demand"),
        gallring_sweep.to_deployment(name="gallring-daily", schedule=Cron("0 4 * * *", timezone="Europe/Stockholm")),
    ]


if __name__ == "__main__":
    serve(*deployments())
