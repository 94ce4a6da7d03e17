"""`make dev`'s runner: Prefect server, the flow deployments and the API come up on 127.0.0.1 and stop together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_dev_runner_starts_prefect_flows_and_api_and_stops_them_on_sigterm(tmp_path: Path) -> None:
    api, prefect = _free_port(), _free_port()
    env = {**os.environ, "IOP_DEV_API_PORT": str(api), "IOP_DEV_PREFECT_PORT": str(prefect),
           "IOP_DEV_PREFECT_HOME": str(tmp_path / "prefect"), "IOP_DATABASE_URL": f"sqlite:///{tmp_path}/iop.db",
           "IOP_STORAGE_URL": f"file://{tmp_path}/objects", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    subprocess.run([sys.executable, "-m", "service.migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "scripts/dev.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 150
        names: set[str] = set()
        while time.monotonic() < deadline and not {"every-5-min", "every-30-s", "daily"} <= names:
            assert proc.poll() is None, proc.stdout.read()
            try:
                r = httpx.post(f"http://127.0.0.1:{prefect}/api/deployments/filter", json={}, timeout=2)
                names = {d["name"] for d in r.json()} if r.status_code == 200 else set()
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert {"every-5-min", "every-30-s", "daily"} <= names, names  # flows.serve registered its deployments
        ready = httpx.get(f"http://127.0.0.1:{api}/ready", timeout=10).json()
        assert ready["status"] == "ok" and ready["info"]["prefect"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert f"http://127.0.0.1:{api}/" in out and f"Prefect UI:      http://127.0.0.1:{prefect}/" in out
    assert f"Länkar i e-post: http://127.0.0.1:{api}/" in out  # e-mail links follow the port, not the default 8000
    time.sleep(1)
    assert not _listening(api) and not _listening(prefect)  # every child stopped with the runner
