"""Run the real app under uvicorn on a free loopback port against a fresh migrated SQLite database."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("IOP_CHROMIUM", "/usr/bin/chromium")
# No network, no updates, no first-run UI: the browser only ever talks to the loopback server.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--lang=sv-SE"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn in a subprocess with its own database and object store under `workdir`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.db_url = f"sqlite:///{workdir / 'iop.db'}"
        self.storage_url = f"file://{workdir / 'objects'}"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "uvicorn.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def prepare(self, populate: Callable[[Session], None] | None = None) -> None:
        """Migrate the database (Alembic, as in production) and optionally fill it before the server starts."""
        from service.db import make_engine
        from service.migrate import upgrade

        (self.workdir / "objects").mkdir(parents=True, exist_ok=True)
        upgrade(self.db_url)
        if populate is not None:
            engine = make_engine(self.db_url)
            try:
                with Session(engine, expire_on_commit=False) as session:
                    populate(session)
                    session.commit()
            finally:
                engine.dispose()

    def start(self, timeout: float = 60.0, env: dict[str, str] | None = None) -> None:
        """Start uvicorn bound to 127.0.0.1 only (with `env` added to its environment) and wait until /health answers."""
        env = {**os.environ, "IOP_DATABASE_URL": self.db_url, "IOP_STORAGE_URL": self.storage_url, "IOP_ENV": "test",
               "IOP_SECRET_KEY": secrets.token_urlsafe(40), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", **(env or {})}
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"uvicorn did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        """The server's output so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")[-8000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the server process this object started."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
