"""Issue 21: a burst of kicks never starts a flow-run process per kick; one outbox run at a time, with a real runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prefect.settings import PREFECT_API_URL
from sqlalchemy import func, select

from service.outbox import kick
from service.outbox.models import OutboxEvent
from service.outbox.service import emit

ROOT = Path(__file__).resolve().parents[2]


def _runs(api: str, dep_id: str, *states: str) -> list[dict]:
    body: dict = {"deployments": {"id": {"any_": [dep_id]}}}
    if states:
        body["flow_runs"] = {"state": {"type": {"any_": list(states)}}}
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()


def _kick_burst(monkeypatch, n: int, seconds: float) -> None:  # noqa: ANN001
    for _ in range(n):
        monkeypatch.setattr(kick, "_last", 0.0)  # as if every kick came from another API process
        kick.kick(wait=True)
        time.sleep(seconds / n)


def test_kicks_coalesce_while_a_run_waits(env, monkeypatch) -> None:  # noqa: ANN001
    """No runner picks the first run up: the other 49 kicks find it waiting and ask for nothing."""
    from flows.serve import deployments

    api = PREFECT_API_URL.value().rstrip("/")
    outbox = next(d for d in deployments() if d.name == "every-30-s")
    outbox.schedules = []  # only kicks here, no schedule
    outbox.name = f"kick-{uuid.uuid4().hex[:8]}"  # its own: no run another test left waiting
    dep_id = str(outbox.apply())
    monkeypatch.setattr(kick, "DEPLOYMENT", f"process_outbox/{outbox.name}")
    limit = httpx.get(f"{api}/deployments/{dep_id}", timeout=10).json()
    assert limit["global_concurrency_limit"]["limit"] == 1 and limit["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    monkeypatch.setenv("PREFECT_API_URL", api)
    monkeypatch.setattr(kick, "_deployment_ids", {})
    before = len(_runs(api, dep_id))
    _kick_burst(monkeypatch, 50, 2.0)
    assert len(_runs(api, dep_id)) - before == 1


@pytest.mark.skipif(sys.platform != "linux", reason="process groups")
def test_fifty_kicks_one_outbox_run_at_a_time(env, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    """A real runner (flows.serve) under 50 kicks in 10 s: never two outbox runs at once, and the events get done."""
    api = PREFECT_API_URL.value().rstrip("/")
    factory = env
    with factory() as s, s.begin():
        for i in range(20):
            emit(s, "email.send", {"template": "message_posted", "key": f"storm:{i}", "context": {
                "to": f"medlem{i}@forening.example.se", "recipient_name": "Medlem", "author_name": "Handläggare",
                "case_title": "Läxhjälp", "diarienummer": "SOC 2026/0001", "case_url": "http://127.0.0.1:8000/arenden/1"}})
    runner_env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen([sys.executable, "-m", "flows.serve"], cwd=ROOT, env=runner_env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        dep_id = None
        deadline = time.monotonic() + 60
        while dep_id is None and time.monotonic() < deadline:
            r = httpx.get(f"{api}/deployments/name/process_outbox/every-30-s", timeout=10)
            dep_id = r.json()["id"] if r.status_code == 200 and (r.json().get("global_concurrency_limit") or {}).get("limit") == 1 else None
            time.sleep(0.5)
        assert dep_id, (tmp_path / "serve.log").read_text()[-2000:]
        monkeypatch.setenv("PREFECT_API_URL", api)
        monkeypatch.setattr(kick, "_deployment_ids", {})
        most_running = 0
        began = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # as the Prefect API writes its times
        start = time.monotonic()
        for _ in range(50):
            monkeypatch.setattr(kick, "_last", 0.0)
            kick.kick(wait=True)
            most_running = max(most_running, len(_runs(api, dep_id, "RUNNING")))
            time.sleep(max(0.0, start + 10 * (_ + 1) / 50 - time.monotonic()))
        deadline = time.monotonic() + 120  # two shared cores: flow-run processes start slowly
        while time.monotonic() < deadline:
            most_running = max(most_running, len(_runs(api, dep_id, "RUNNING")))
            with factory() as s:
                left = s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.processed_at.is_(None)))
            if left == 0 and not _runs(api, dep_id, "RUNNING", "PENDING"):
                break
            time.sleep(0.5)
        assert left == 0, (tmp_path / "serve.log").read_text()[-3000:]
        assert most_running <= 1
        # Runs the kicks asked for in this test (not the schedule's, not an earlier test's): nowhere near one per kick.
        # None at all is right too when the schedule's run was due the whole burst (a slow runner start): the kicks
        # then wait for it (that a kick does create a run is test_kicks_coalesce_while_a_run_waits).
        kicked = [r for r in _runs(api, dep_id) if "kick" in r["tags"] and r["created"] >= began]
        assert len(kicked) <= 15, len(kicked)
    finally:
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait(10)
        log.close()
