"""Issue 18: throttling counts shared by every API process. The database window on both backends (the same answers as
the in-memory one, atomic hits under concurrency), and two real uvicorn processes on one PostgreSQL database whose
failed logins are limited to the configured number in total, not per process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from factories import World
from sqlalchemy.orm import Session

from service.auth.ratelimit import AttemptLimiter, DatabaseWindow, LoginLimiter, SlidingWindow, make_window, shared
from service.config import Settings
from service.errors import TooManyRequests
from tests.web.live_server import ROOT, free_port


class Clock:
    """A settable wall clock."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def test_the_database_window_counts_like_the_memory_one(fresh_engine) -> None:  # noqa: ANN001
    clock = Clock()
    db_window = DatabaseWindow(900, name="login", engine=lambda: fresh_engine, clock=clock)
    for window in (SlidingWindow(900, clock=clock), db_window):
        lim = LoginLimiter(3, 900, max_failures_per_client=5, window=window)
        for _ in range(3):
            lim.check("a@example.se", "198.51.100.7")
            lim.failed("A@example.se ", "198.51.100.7")  # the key is normalised
        with pytest.raises(TooManyRequests) as exc:
            lim.check("a@example.se", "198.51.100.7")
        assert exc.value.headers["Retry-After"] == "900"
        lim.check("a@example.se", "203.0.113.9")  # another address has its own budget
        clock.t += 300
        lim.succeeded("a@example.se", "198.51.100.7")  # clears the key, not the address's budget
        lim.check("a@example.se", "198.51.100.7")
        lim.failed("b@example.se", "198.51.100.7")
        lim.failed("c@example.se", "198.51.100.7")
        with pytest.raises(TooManyRequests, match="från din adress") as exc:
            lim.check("d@example.se", "198.51.100.7")
        assert exc.value.headers["Retry-After"] == "600"  # the oldest of the address's five leaves in 600 s
        clock.t += 601
        lim.check("d@example.se", "198.51.100.7")
        clock.t -= 901  # the next window starts at the same time
    # Rows beyond the window are deleted as the key is written; reset() forgets this limiter's rows only.
    other = DatabaseWindow(60, name="register", engine=lambda: fresh_engine, clock=clock)
    other.add("198.51.100.7")
    db_window.clear_all()
    with fresh_engine.connect() as conn:
        keys = [k for (k,) in conn.exec_driver_sql("SELECT key FROM rate_limit_events")]
    assert keys == ["register:198.51.100.7"]


def test_concurrent_hits_never_exceed_the_limit(fresh_engine) -> None:  # noqa: ANN001
    lim = AttemptLimiter(7, 3600, window=DatabaseWindow(3600, name="register", engine=lambda: fresh_engine))
    outcomes: list[bool] = []

    def register() -> None:
        try:
            lim.hit("198.51.100.7")
            outcomes.append(True)
        except TooManyRequests:
            outcomes.append(False)

    threads = [threading.Thread(target=register) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert (outcomes.count(True), outcomes.count(False)) == (7, 13)


def test_several_workers_or_production_share_the_counts() -> None:
    assert not shared(Settings(web_concurrency=1))
    assert shared(Settings(web_concurrency=4)) and shared(Settings(web_concurrency=0))  # 0: one per CPU
    assert shared(Settings(env="production", secret_key=secrets.token_urlsafe(40)))
    assert not shared(Settings(web_concurrency=4, ratelimit_store="memory"))
    assert isinstance(make_window(Settings(ratelimit_store="database"), 60, "login"), DatabaseWindow)


def _api(db_url: str, port: int, log: Path, secret: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "IOP_DATABASE_URL": db_url, "IOP_ENV": "test", "IOP_SECRET_KEY": secret, "IOP_WEB_CONCURRENCY": "2",
           "IOP_LOGIN_MAX_FAILURES": "4", "PYTHONPATH": str(ROOT), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port),
                             "--log-level", "warning"], cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # several processes on one database: production's setup
def test_failed_logins_across_two_api_processes_are_limited_in_total(backend, tmp_path) -> None:  # noqa: ANN001
    from service.db import make_engine

    url = backend.clone()
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            w = World(s)
            email = w.officer.email
            s.commit()
    finally:
        engine.dispose()
    secret = secrets.token_urlsafe(40)
    ports = [free_port(), free_port()]
    procs = [_api(url, port, tmp_path / f"api{i}.log", secret) for i, port in enumerate(ports)]
    try:
        for port, proc in zip(ports, procs, strict=True):
            for _ in range(300):
                assert proc.poll() is None, (tmp_path / "api0.log").read_text() + (tmp_path / "api1.log").read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
        codes = []
        for i in range(8):  # alternating between the two processes
            r = httpx.post(f"http://127.0.0.1:{ports[i % 2]}/api/v1/auth/token", data={"username": email, "password": "fel lösenord"},
                           timeout=30)
            codes.append(r.status_code)
        assert codes == [401] * 4 + [429] * 4, codes
        # The right password does not help either process while the key is locked.
        assert httpx.post(f"http://127.0.0.1:{ports[0]}/api/v1/auth/token", data={"username": email, "password": "x"},
                          timeout=30).status_code == 429
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)
        backend.drop(url)
