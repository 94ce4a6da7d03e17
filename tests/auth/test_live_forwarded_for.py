"""The API as `make dev` runs it (scripts/dev.py, real uvicorn on 127.0.0.1): rotating X-Forwarded-For does not
unlock a throttled account, because the header is believed only from IOP_TRUSTED_PROXIES (none by default)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from factories import PASSWORD, World
from sqlalchemy.orm import Session

from service.db import make_engine
from service.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rotating_x_forwarded_for_against_the_dev_server_stays_throttled(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/iop.db"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s, s.begin():
        email = World(s).officer.email
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "IOP_DEV_API_PORT": str(port), "IOP_DATABASE_URL": url, "IOP_STORAGE_URL": f"file://{tmp_path}/objects",
           "IOP_ENV": "test", "DO_NOT_TRACK": "1"}
    env.pop("IOP_TRUSTED_PROXIES", None)
    proc = subprocess.Popen([sys.executable, "scripts/dev.py", "--no-prefect"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "the dev server did not come up"
            time.sleep(0.3)

        def login(password: str, n: int) -> int:
            return httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": password},
                              headers={"X-Forwarded-For": f"203.0.113.{n}"}, timeout=10).status_code

        assert [login("fel-lösenord", n) for n in range(5)] == [401] * 5
        # Each attempt claims another address; the account stays locked for the one address they all come from.
        assert [login(PASSWORD, n) for n in range(5, 8)] == [429] * 3
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
