"""Issue 18: the API runs IOP_WEB_CONCURRENCY workers (0: one per CPU); SQLite always one."""

from __future__ import annotations

import os

from service.config import Settings
from service.serve import workers

PG = "postgresql://iop@127.0.0.1/iop"


def test_workers_follow_the_setting_and_sqlite_runs_one() -> None:
    assert workers(Settings(database_url=PG, web_concurrency=3)) == 3
    assert workers(Settings(database_url=PG, web_concurrency=0)) == (os.cpu_count() or 1)
    assert workers(Settings(database_url="sqlite:///./var/iop.db", web_concurrency=4)) == 1
    assert workers(Settings(database_url=PG)) == 1  # the default: one process, counts in memory
