"""Kick the `process_outbox` deployment after a commit that wrote events (best effort, coalesced).

Contract:
- The 30-second schedule stays the guarantee; the kick only shortens the wait. It talks to the Prefect REST API
  with a short timeout from a daemon thread, so a slow or dead Prefect never delays a request.
- Kicks coalesce: within one process at most one per MIN_INTERVAL_S, and across processes none while a run of the
  deployment is due and not yet started (it will see the events committed before the kick). A run already running
  may have claimed its batch before this commit, so a kick then asks for one more, which queues behind it: the
  deployment's concurrency limit of 1 (flows/serve.py, prefect.yaml) keeps a single run at a time.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("iop.outbox")
DEPLOYMENT = "process_outbox/every-30-s"
MIN_INTERVAL_S = 2.0  # many commits in a burst share one flow run
_FLAG = "outbox_written"
_lock = threading.Lock()
_last = 0.0
_deployment_ids: dict[str, str] = {}


def mark(session: Session) -> None:
    """Note that this transaction wrote outbox events."""
    session.info[_FLAG] = True


def kick(*, wait: bool = False) -> threading.Thread | None:
    """Start one `process_outbox` run unless one was asked for less than MIN_INTERVAL_S ago."""
    global _last
    url = os.environ.get("PREFECT_API_URL")
    if not url or os.environ.get("IOP_OUTBOX_KICK", "true").lower() in ("0", "false", "no"):
        return None
    with _lock:
        now = time.monotonic()
        if now - _last < MIN_INTERVAL_S:
            return None
        _last = now
    t = threading.Thread(target=_create_run, args=(url.rstrip("/"),), name="outbox-kick", daemon=True)
    t.start()
    if wait:
        t.join()
    return t


def _create_run(api: str) -> None:
    """Create a flow run of the deployment; any failure is logged and left to the schedule."""
    try:
        with httpx.Client(base_url=api, timeout=5.0) as client:  # off the request thread, so a slow server costs nothing
            dep_id = _deployment_ids.get(api)
            if dep_id is None:
                r = client.get(f"/deployments/name/{DEPLOYMENT}")
                r.raise_for_status()
                dep_id = _deployment_ids[api] = r.json()["id"]
            if _waiting_run(client, dep_id):
                return
            client.post(f"/deployments/{dep_id}/create_flow_run", json={"tags": ["kick"]}).raise_for_status()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        _deployment_ids.pop(api, None)
        log.info("outbox kick skipped (%s); the 30 s schedule picks the events up", type(exc).__name__)


def _waiting_run(client: httpx.Client, dep_id: str) -> bool:
    """Whether a run of the deployment is due (or queued for its concurrency slot) and has not started."""
    soon = (datetime.now(UTC) + timedelta(seconds=MIN_INTERVAL_S)).isoformat()
    body = {"deployments": {"id": {"any_": [dep_id]}}, "limit": 1,
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED", "PENDING"]}}, "expected_start_time": {"before_": soon}}}
    r = client.post("/flow_runs/filter", json=body)
    r.raise_for_status()
    return bool(r.json())


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Only after the outer commit is the event visible to the flow (savepoint releases fire this too).
    if session.in_nested_transaction():
        return
    if session.info.pop(_FLAG, False):
        kick()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    # A rolled-back savepoint does not undo events written before it in the same transaction.
    if not session.in_nested_transaction():
        session.info.pop(_FLAG, None)
