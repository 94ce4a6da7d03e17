"""process_outbox: perform the side effects the service wrote in its transactions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from prefect import flow, get_run_logger

from flows.runtime import outbox_context, session_factory
from service.outbox.service import process


@flow(name="process_outbox")
async def process_outbox(now: datetime | None = None, limit: int = 200, batches: int = 10) -> dict[str, int]:
    """Process due outbox events in batches of `limit` over one mail connection (retries with backoff, idempotent handlers).

    A further batch is taken only while the last one was full and nothing in it had to wait: events the handlers emit
    themselves, and a backlog behind a failing mail server, are left to the next run.
    """
    ctx = outbox_context()
    totals = {"processed": 0, "retried": 0, "failed": 0, "batches": 0}
    with ctx.mailer.connection() as mailer:
        run_ctx = replace(ctx, mailer=mailer)
        for _ in range(batches):
            result = process(session_factory(), run_ctx, now=now, limit=limit)
            totals["batches"] += 1
            totals["processed"] += result.processed
            totals["retried"] += result.retried
            totals["failed"] += result.failed
            if result.claimed < limit or result.retried or result.released:
                break
    get_run_logger().info("outbox: %s", totals)
    return totals
