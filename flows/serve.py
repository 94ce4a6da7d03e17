"""Serve every deployment from one process: `python -m flows.serve`."""

from __future__ import annotations

import flows  # noqa: F401  (analytics off before Prefect loads)
from prefect import serve
from prefect.schedules import Cron

from flows.deadline_sweep import deadline_sweep
from flows.followup import followup_schedule
from flows.maintenance import storage_maintenance
from flows.outbox import process_outbox
from flows.review import review_step


def deployments() -> list:
    """The deployments: sweep every 5 min, outbox every 30 s, storage maintenance daily, the rest on demand."""
    return [
        deadline_sweep.to_deployment(name="every-5-min", cron="*/5 * * * *"),
        process_outbox.to_deployment(name="every-30-s", interval=30),
        review_step.to_deployment(name="on-demand"),
        followup_schedule.to_deployment(name="on-demand"),
        storage_maintenance.to_deployment(name="daily", schedule=Cron("30 3 * * *", timezone="Europe/Stockholm")),
    ]


if __name__ == "__main__":
    serve(*deployments())
