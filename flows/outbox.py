"""process_outbox: perform the side effects the service wrote in its transactions."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from flows.runtime import outbox_context, session_factory
from service.outbox.service import process


@flow(name="process_outbox")
async def process_outbox(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Process one batch of due outbox events (retries with backoff, idempotent handlers)."""
    result = process(session_factory(), outbox_context(), now=now, limit=limit)
    get_run_logger().info("outbox: %s", result)
    return {"processed": result.processed, "retried": result.retried, "failed": result.failed}
