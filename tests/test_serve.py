"""Issue 18: the API runs IOP_WEB_CONCURRENCY workers (0: one per CPU), SQLite always one; the workers share the port's
connections and a dead one is replaced."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time

import httpx
import pytest

from service.config import Settings
from service.serve import listening_socket, supervise, workers

PG = "postgresql://iop@127.0.0.1/iop"


def test_workers_follow_the_setting_and_sqlite_runs_one() -> None:
    assert workers(Settings(database_url=PG, web_concurrency=3)) == 3
    assert workers(Settings(database_url=PG, web_concurrency=0)) == (os.cpu_count() or 1)
    assert workers(Settings(database_url="sqlite:///./var/iop.db", web_concurrency=4)) == 1
    assert workers(Settings(database_url=PG)) == 1  # the default: one process, counts in memory


def _connections_by_pid(port: int, pids: list[int]) -> dict[int, int]:
    """Established server-side connections on the port, counted per process that holds them (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # local port, ESTABLISHED
                    inodes.add(fields[9])
    counts = {}
    for pid in pids:
        n = 0
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    n += link.startswith("socket:[") and link[8:-1] in inodes
        counts[pid] = n
    return counts


def _workers() -> list[int]:
    """This process's spawned worker processes (children of any of its threads)."""
    found = []
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{os.getpid()}/task/{task}/children") as f:
            for pid in map(int, f.read().split()):
                with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline") as cmd:
                    if "--multiprocessing-fork" in cmd.read():
                        found.append(pid)
    return found


def _health(port: int) -> int:
    with httpx.Client(timeout=5) as c:
        return c.get(f"http://127.0.0.1:{port}/health").status_code


def test_two_workers_share_a_burst_of_keep_alive_connections_and_a_dead_worker_is_replaced(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """32 connections opened at once are spread over both workers (each its own SO_REUSEPORT socket): with one shared
    socket the first worker woken takes the burst and keeps it. A killed worker is replaced; a stop ends them all."""
    monkeypatch.setenv("IOP_DATABASE_URL", f"sqlite:///{tmp_path / 'iop.db'}")
    monkeypatch.setenv("IOP_ENV", "test")
    monkeypatch.setenv("IOP_SECRET_KEY", "serve-test-" + "x" * 40)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stop = threading.Event()
    sup = threading.Thread(target=supervise, args=(2, "127.0.0.1", port), kwargs={"stop": stop})
    sup.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if _health(port) == 200 and len(_workers()) >= 2:
                    break
            time.sleep(0.2)
        workers_ = _workers()
        assert len(workers_) == 2, workers_
        time.sleep(2)  # both workers listening
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        try:
            for c in conns:
                c.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for c in conns:
                assert c.recv(4096).startswith(b"HTTP/1.1 200")
            counts = _connections_by_pid(port, workers_)
        finally:
            for c in conns:
                c.close()
        assert sum(counts.values()) == 32, counts
        assert min(counts.values()) >= 4, counts  # hash-spread: fewer than 4 of 32 has odds of about 1 in 10^5

        os.kill(workers_[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if [p for p in _workers() if p not in workers_] and _health(port) == 200:
                break
            time.sleep(0.2)
        assert [p for p in _workers() if p not in workers_], "the killed worker was not replaced"
    finally:
        stop.set()
        sup.join(timeout=60)
    assert not sup.is_alive()
    assert not _workers()


def test_a_port_in_use_fails_at_once_and_no_worker_starts() -> None:
    """Even a holder that allows SO_REUSEPORT (an older instance) is not joined silently."""

    held = listening_socket("127.0.0.1", 0)  # SO_REUSEPORT, like a running instance's worker
    stop = threading.Event()
    stop.set()  # were the port taken over, the workers would start and stop again at once (and the test fail, not hang)
    try:
        with pytest.raises(OSError):
            supervise(2, "127.0.0.1", held.getsockname()[1], stop=stop)
        assert not _workers()
    finally:
        held.close()


def test_the_server_entry_point_freezes_what_start_up_built(tmp_path) -> None:  # noqa: ANN001
    """A full collection must not walk the app's start-up objects (a pause paid by the requests in flight)."""
    import subprocess
    import sys

    env = {**os.environ, "IOP_DATABASE_URL": f"sqlite:///{tmp_path / 'iop.db'}", "IOP_ENV": "test", "IOP_SECRET_KEY": "x" * 50}
    out = subprocess.run([sys.executable, "-c", "import gc, service.main; print(gc.get_freeze_count())"], env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert int(out.split()[-1]) > 50_000
