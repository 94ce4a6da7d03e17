"""Run the API under uvicorn with the configured number of worker processes: `python -m service.serve [--host H] [--port P]`.

Contract: IOP_WEB_CONCURRENCY workers (0: one per CPU); SQLite gets one whatever is asked (a single writer, and the
embedded default is one process); with more than one, throttling counts live in the database (service.auth.ratelimit.
shared), so the workers share one budget. --no-proxy-headers as before: the app itself believes X-Forwarded-For only
from IOP_TRUSTED_PROXIES. Idle keep-alive connections close after 5 s and request headers are capped at 16 KiB.

Several workers each listen on a socket of their own on the same port (SO_REUSEPORT), so the kernel spreads the
connections among them. uvicorn's own supervisor shares one socket, and a worker woken for a burst of connections
accepts all of them (asyncio accepts up to the backlog per wake-up): a proxy's or client's pool of keep-alive
connections opened at once then stays on one worker while the others idle (bench/README, part (e)). A worker that
dies is replaced (at most one start per second per slot); SIGTERM or SIGINT stop every worker gracefully (uvicorn's
own shutdown: in-flight requests finish), and any still running after GRACE_S are killed.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from typing import Any

import uvicorn

from service.config import Settings, get_settings

log = logging.getLogger("iop.serve")
APP = "service.main:app"
OPTIONS: dict[str, Any] = {"proxy_headers": False, "timeout_keep_alive": 5, "h11_max_incomplete_event_size": 16384}
GRACE_S = 30.0
BACKLOG = 2048  # uvicorn's default


def workers(settings: Settings) -> int:
    """How many worker processes to run."""
    if settings.database_url.startswith("sqlite"):
        return 1
    return settings.web_concurrency or os.cpu_count() or 1


def listening_socket(host: str, port: int, *, shared: bool = True) -> socket.socket:
    """A socket bound to host:port; shared: other workers can bind it too (SO_REUSEPORT), the kernel shares connections out."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(BACKLOG)
    return sock


def _worker(host: str, port: int) -> None:
    """One worker process: its own socket on the shared port, uvicorn serving the app on it."""
    sock = listening_socket(host, port)
    uvicorn.Server(uvicorn.Config(APP, host=host, port=port, **OPTIONS)).run(sockets=[sock])


def supervise(n: int, host: str, port: int, *, stop: threading.Event | None = None) -> None:
    """Keep n worker processes running until SIGTERM/SIGINT (or `stop`), then stop them gracefully."""
    stop = stop or threading.Event()
    ctx = multiprocessing.get_context("spawn")  # a clean interpreter per worker, as uvicorn's own supervisor uses

    def start() -> multiprocessing.process.BaseProcess:
        p = ctx.Process(target=_worker, args=(host, port), name="iop-api-worker", daemon=False)
        p.start()
        return p

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    # Bound once without SO_REUSEPORT first: a port in use fails here at once, and an older instance still listening
    # with SO_REUSEPORT is not silently joined.
    listening_socket(host, port, shared=False).close()
    procs = [start() for _ in range(n)]
    started = [time.monotonic()] * n
    log.info("API on %s:%s with %s workers (pids %s)", host, port, n, [p.pid for p in procs])
    while not stop.wait(0.5):
        for i, p in enumerate(procs):
            if not p.is_alive() and time.monotonic() - started[i] >= 1.0:
                log.warning("API worker %s exited with %s; starting another", p.pid, p.exitcode)
                procs[i], started[i] = start(), time.monotonic()
    for p in procs:
        if p.is_alive():
            os.kill(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


def main(argv: list[str] | None = None) -> None:
    """Parse the bind address and start one uvicorn server, or the workers."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1", help="address to bind (the container image passes 0.0.0.0)")
    p.add_argument("--port", type=int, default=8000)
    args = p.parse_args(argv)
    settings = get_settings()
    n = workers(settings)
    if settings.database_url.startswith("sqlite") and settings.web_concurrency != 1:
        log.warning("SQLite: one worker (IOP_WEB_CONCURRENCY=%s ignored)", settings.web_concurrency)
    if n == 1:
        uvicorn.run(APP, host=args.host, port=args.port, **OPTIONS)
        return
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    supervise(n, args.host, args.port)


if __name__ == "__main__":
    main()
