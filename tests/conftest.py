"""Shared fixtures: real SQLite and PostgreSQL databases, migrated by Alembic, and an API client."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("IOP_ENV", "test")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import psycopg  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from service.db import make_engine  # noqa: E402
from service.reads import SessionReader  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from helpers import drop_sessions, use_sessions  # noqa: E402

pytest_plugins = ["tests.fixtures.s3", "tests.fixtures.smtp", "tests.fixtures.postgres"]

PG_ADMIN = os.environ.get("IOP_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]
_RUN_ID = uuid.uuid4().hex[:8]


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


PG_OK = _pg_reachable()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which databases this run uses."""
    pg = f"PostgreSQL at {PG_ADMIN.rsplit('@', 1)[-1]} (throwaway databases iop_test_{_RUN_ID}_*)" if PG_OK else "PostgreSQL NOT reachable"
    return [f"databases: SQLite (temporary file) and {pg}"]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    """Count passed tests per database backend so the run shows both were exercised."""
    counts = {b: 0 for b in BACKENDS}
    for rep in terminalreporter.stats.get("passed", []):
        for b in BACKENDS:
            if f"[{b}" in rep.nodeid or f"-{b}]" in rep.nodeid or f"-{b}-" in rep.nodeid:
                counts[b] += 1
    terminalreporter.write_line(f"database backends exercised: sqlite={counts['sqlite']} tests, postgresql={counts['postgresql']} tests")


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


class Backend:
    """A pristine migrated database that per-test databases are cloned from."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name = name
        self.tmp = tmp
        self._n = 0
        self.clones: list[str] = []
        if name == "sqlite":
            self.template = tmp / "template.db"
            upgrade(f"sqlite:///{self.template}")
        else:
            self.template_db = f"iop_test_{_RUN_ID}_tpl"
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.template_db}"')
            _pg_admin(f'CREATE DATABASE "{self.template_db}"')
            upgrade(self._pg_url(self.template_db))

    def _pg_url(self, db: str) -> str:
        return PG_ADMIN.rsplit("/", 1)[0] + f"/{db}"

    def clone(self) -> str:
        """A new database with the migrated schema; returns its URL."""
        self._n += 1
        if self.name == "sqlite":
            path = self.tmp / f"db{self._n}.db"
            shutil.copy(self.template, path)
            return f"sqlite:///{path}"
        db = f"iop_test_{_RUN_ID}_{self._n}"
        _pg_admin(f'CREATE DATABASE "{db}" TEMPLATE "{self.template_db}"')
        self.clones.append(db)
        return self._pg_url(db)

    def drop(self, url: str) -> None:
        """Drop a clone (PostgreSQL) as soon as its test is done."""
        if self.name == "postgresql":
            db = url.rsplit("/", 1)[-1]
            _pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            self.clones.remove(db)

    def close(self) -> None:
        """Drop everything this run created."""
        if self.name == "postgresql":
            for db in [*self.clones, self.template_db]:
                _pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """Each DB test runs once on SQLite and once on PostgreSQL."""
    if request.param == "postgresql" and not PG_OK:
        if os.environ.get("IOP_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but not reachable at {PG_ADMIN}")
        pytest.skip("PostgreSQL not reachable")
    b = Backend(request.param, tmp_path_factory.mktemp(f"db-{request.param}"))
    yield b
    b.close()


@pytest.fixture(scope="session")
def engine(backend: Backend) -> Iterator[Engine]:
    """The shared test database of a backend (tests roll back their changes)."""
    url = backend.clone()
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        trans.rollback()
        conn.close()


@pytest.fixture(autouse=True)
def _fresh_registration_limit() -> None:
    """Self-registrations, password-reset requests, failed logins (across accounts) and public register requests are
    limited per client address, and every test client is "testclient": start each test afresh."""
    from service.auth.ratelimit import get_login_limiter, get_public_limiter, get_register_limiter, get_reset_limiter

    get_public_limiter().reset()
    get_register_limiter().reset()
    get_reset_limiter().reset()
    get_login_limiter().reset()


@pytest.fixture(scope="session")
def app():  # noqa: ANN201
    """The FastAPI application."""
    from service.app import create_app

    return create_app()


@pytest.fixture
def client(app, db: Session) -> Iterator[TestClient]:  # noqa: ANN001
    """API client whose request sessions live in the test's rolled-back transaction."""

    def _session() -> Iterator[Session]:
        db.commit()  # keep the test's own setup; the request then fails or succeeds on its own savepoint
        try:
            yield db
            db.commit()  # releases the savepoint only
        except BaseException:
            db.rollback()
            raise

    use_sessions(app, _session, SessionReader(lambda: nullcontext(db)))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    drop_sessions(app)


@pytest.fixture
def fresh_engine(backend: Backend) -> Iterator[Engine]:
    """A database of its own with real commits, for concurrency tests."""
    url = backend.clone()
    eng = make_engine(url, pool_size=20)
    yield eng
    eng.dispose()
    backend.drop(url)


@pytest.fixture(autouse=True)
def _report_periods_have_begun(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' agreements run 2027–2028: their follow-up reports may be submitted as if on 2028-06-01.

    A report cannot be submitted before its period begins (service.followup.service.ensure_period_started); tests of
    that rule are marked `real_clock` and meet today's date.
    """
    if request.node.get_closest_marker("real_clock") is None:
        from datetime import date

        from service.followup import service as followup

        monkeypatch.setattr(followup, "local_today", lambda: date(2028, 6, 1))
