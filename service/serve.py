"""Run the API under uvicorn with the configured number of worker processes: `python -m service.serve [--host H] [--port P]`.

Contract: IOP_WEB_CONCURRENCY workers (0: one per CPU); SQLite gets one whatever is asked (a single writer, and the
embedded default is one process); with more than one, throttling counts live in the database (service.auth.ratelimit.
shared), so the workers share one budget. --no-proxy-headers as before: the app itself believes X-Forwarded-For only
from IOP_TRUSTED_PROXIES. Idle keep-alive connections close after 5 s and request headers are capped at 16 KiB.
"""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from service.config import Settings, get_settings

log = logging.getLogger("iop.serve")


def workers(settings: Settings) -> int:
    """How many worker processes to run."""
    if settings.database_url.startswith("sqlite"):
        return 1
    return settings.web_concurrency or os.cpu_count() or 1


def main(argv: list[str] | None = None) -> None:
    """Parse the bind address and start uvicorn."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1", help="address to bind (the container image passes 0.0.0.0)")
    p.add_argument("--port", type=int, default=8000)
    args = p.parse_args(argv)
    settings = get_settings()
    n = workers(settings)
    if settings.database_url.startswith("sqlite") and settings.web_concurrency != 1:
        log.warning("SQLite: one worker (IOP_WEB_CONCURRENCY=%s ignored)", settings.web_concurrency)
    uvicorn.run("service.main:app", host=args.host, port=args.port, workers=n, proxy_headers=False, timeout_keep_alive=5,
                h11_max_incomplete_event_size=16384)


if __name__ == "__main__":
    main()
