"""What every benchmark part shares: environment, throwaway database, statistics, machine info."""

from __future__ import annotations

import os
import platform
import secrets
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get("IOP_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1"

# Nothing the benchmark starts may phone home (Prefect, SeaweedFS are told separately).
SAFE_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PYTHONUNBUFFERED": "1",
    # Prefect's per-task-run INFO lines (1,000 of them) stay out of the console; they still go to the API as usual.
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL": "WARNING",
}


def prepare_environment(database_url: str) -> str:
    """Point the service's settings at the benchmark database; returns the signing secret."""
    secret = os.environ.get("IOP_BENCH_SECRET") or secrets.token_hex(32)
    os.environ.update(SAFE_ENV)
    os.environ.update({
        "IOP_ENV": "test",
        "IOP_DATABASE_URL": database_url,
        "IOP_SECRET_KEY": secret,
        "IOP_STORAGE_URL": "file://./var/bench-objects",
    })
    clear_caches()
    return secret


def clear_caches() -> None:
    """Forget cached settings/engines so new environment variables take effect."""
    from service.config import get_settings
    from service.db import get_engine, get_sessionmaker

    for fn in (get_settings, get_engine, get_sessionmaker):
        fn.cache_clear()
    try:
        from flows.runtime import outbox_context
        from service.documents.service import get_store

        outbox_context.cache_clear()
        get_store.cache_clear()
    except ImportError:  # pragma: no cover - flows are optional for parts of the bench
        pass


# --------------------------------------------------------------------------- database


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def pg_url(db: str) -> str:
    """URL of a database on the benchmark server."""
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{db}"


@contextmanager
def throwaway_database(keep: bool = False) -> Iterator[str]:
    """A new PostgreSQL database migrated by the project's Alembic migrations; dropped afterwards."""
    from service.migrate import upgrade

    name = f"iop_bench_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    url = pg_url(name)
    try:
        upgrade(url)
        yield url
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            from service.db import get_engine

            try:
                get_engine().dispose()
            except Exception:  # noqa: BLE001 - best effort before the drop
                pass
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_version() -> str:
    """server_version of the benchmark PostgreSQL."""
    import psycopg

    with psycopg.connect(PG_ADMIN) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])


# --------------------------------------------------------------------------- numbers


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summarise_ms(samples_s: list[float]) -> dict[str, float]:
    """p50/p90/p99/mean/min/max in milliseconds from samples in seconds."""
    xs = sorted(x * 1000 for x in samples_s)
    return {
        "n": len(xs),
        "p50_ms": round(percentile(xs, 50), 3),
        "p90_ms": round(percentile(xs, 90), 3),
        "p99_ms": round(percentile(xs, 99), 3),
        "mean_ms": round(statistics.fmean(xs), 3) if xs else float("nan"),
        "min_ms": round(xs[0], 3) if xs else float("nan"),
        "max_ms": round(xs[-1], 3) if xs else float("nan"),
    }


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """with timer() as t: ...; t["s"] is the elapsed wall time."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["s"] = time.perf_counter() - start


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_head() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info() -> dict[str, Any]:
    """CPU, memory, Python, PostgreSQL and library versions for the result file."""
    import fastapi
    import pydantic
    import sqlalchemy
    import uvicorn

    mem_total = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_total = f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory": mem_total,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": pg_version(),
        "fastapi": fastapi.__version__,
        "uvicorn": uvicorn.__version__,
        "pydantic": pydantic.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "git_head": _git_head(),
    }


def now_iso() -> str:
    """Timestamp for the result file."""
    return datetime.now(UTC).isoformat(timespec="seconds")
