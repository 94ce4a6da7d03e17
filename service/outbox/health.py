"""What /ready reports about background work: the outbox backlog and whether Prefect answers."""

from __future__ import annotations

import os
from datetime import datetime, UTC
from typing import Any

import httpx
from sqlalchemy import func, select

from service.db import get_sessionmaker
from service.outbox.models import OutboxEvent


def outbox_backlog() -> dict[str, Any]:
    """Pending and permanently failed outbox events, and the age of the oldest pending one."""
    try:
        with get_sessionmaker()() as session:
            pending = OutboxEvent.processed_at.is_(None) & OutboxEvent.failed_at.is_(None)
            count, oldest = session.execute(select(func.count(OutboxEvent.id), func.min(OutboxEvent.created_at)).where(pending)).one()
            failed = session.scalar(select(func.count(OutboxEvent.id)).where(OutboxEvent.failed_at.is_not(None)))
    except Exception as exc:  # noqa: BLE001 - informational; the database check reports the failure
        return {"error": type(exc).__name__}
    age = None
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        age = round((datetime.now(UTC) - oldest).total_seconds())
    return {"pending": count, "failed": failed, "oldest_pending_age_s": age}


def prefect_status() -> str:
    """'ok', 'unreachable' or 'not configured' for the Prefect API in PREFECT_API_URL."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        return "not configured"
    try:
        r = httpx.get(url.rstrip("/") + "/health", timeout=0.5)  # /ready must stay fast when Prefect hangs
        return "ok" if r.status_code == 200 else f"http {r.status_code}"
    except httpx.HTTPError:
        return "unreachable"
