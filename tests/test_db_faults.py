"""PostgreSQL connection dropped mid-request: a clean 503 problem+json, nothing half-written, and the pool recovers.

The fault is real: the request's own server backend is killed with pg_terminate_backend from an admin
connection at a chosen moment (before a query, before the commit), not simulated in Python.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from factories import World, auth, case
from fastapi.testclient import TestClient
from helpers import problem
from sqlalchemy import Engine, event
from sqlalchemy.orm import sessionmaker

import service.db
from service.auth.security import create_token
from service.config import get_settings
from service.db import make_engine
from service.reads import APPLICATION_NAME
from service.cases.models import Case
from service.cases.stages import Stage

pg_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


class Killer:
    """Terminates the server backend of the next connection that reaches the armed point."""

    def __init__(self, engine: Engine, admin_url: str) -> None:
        self.admin_url = admin_url
        self.armed: str | None = None
        self.killed: list[int] = []
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._before_commit)

    def _terminate(self, conn) -> None:  # noqa: ANN001
        self.armed = None
        pid = conn.connection.dbapi_connection.info.backend_pid
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            # The timeout makes the call wait until the backend is gone, so the next statement meets a dead socket.
            assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
        self.killed.append(pid)

    def _before_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001, ARG002
        if self.armed == "query" and statement.lstrip().upper().startswith(self.statement):
            self._terminate(conn)

    def _before_commit(self, conn) -> None:  # noqa: ANN001
        if self.armed == "commit":
            self._terminate(conn)

    def arm(self, point: str, statement: str = "SELECT") -> None:
        """Kill at the next query starting with `statement`, or at the next commit."""
        self.armed, self.statement = point, statement


@pytest.fixture
def pg(app, fresh_engine, monkeypatch) -> Iterator[tuple[sessionmaker, Killer, TestClient]]:  # noqa: ANN001
    """The app's real request session (service.db.session_scope) on a committed database of this test's own."""
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    monkeypatch.setattr(service.db, "get_sessionmaker", lambda: factory)
    monkeypatch.setattr(service.db, "get_engine", lambda: fresh_engine)
    # The test database's own superuser connection string, as a plain libpq URL for psycopg.
    admin_url = fresh_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield factory, Killer(fresh_engine, admin_url), client


def _world(factory: sessionmaker) -> tuple[int, dict, dict]:
    with factory() as s:
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DRAFT)
        s.commit()
        return c.id, auth(w.member), auth(w.officer)


@pg_only
def test_backend_killed_before_a_query_gives_503_and_the_next_request_works(pg) -> None:
    factory, killer, client = pg
    case_id, member, _ = _world(factory)
    # A route on the request session (GET /cases/{id} itself reads through service/reads.py, tested below).
    assert client.get(f"/api/v1/cases/{case_id}/stages", headers=member).status_code == 200
    killer.arm("query")
    r = client.get(f"/api/v1/cases/{case_id}/stages", headers=member)
    body = problem(r, 503)
    assert killer.killed and r.headers["retry-after"] == "5" and body["type"].endswith("/service-unavailable")
    assert "Traceback" not in r.text and "psycopg" not in r.text  # nothing internal leaks to the client
    # The broken connection was invalidated, not returned to the pool: the very next request succeeds.
    assert client.get(f"/api/v1/cases/{case_id}/stages", headers=member).status_code == 200


@pg_only
def test_backend_killed_at_commit_gives_503_and_nothing_is_written(pg) -> None:
    factory, killer, client = pg
    case_id, member, _ = _world(factory)
    etag = client.get(f"/api/v1/cases/{case_id}", headers=member).headers["etag"]
    killer.arm("commit")
    r = client.patch(f"/api/v1/cases/{case_id}", json={"title": "Ny titel som aldrig sparas"}, headers={**member, "If-Match": etag})
    problem(r, 503)  # the handler had finished: the failed commit still becomes the answer, not a 200
    assert killer.killed
    with factory() as s:
        stored = s.get(Case, case_id)
        assert stored.title != "Ny titel som aldrig sparas" and f'"{stored.version}"' == etag
    # The client may retry with the same ETag and succeed.
    r = client.patch(f"/api/v1/cases/{case_id}", json={"title": "Ny titel"}, headers={**member, "If-Match": etag})
    assert r.status_code == 200 and r.json()["title"] == "Ny titel"


@pg_only
def test_pool_recovers_after_every_connection_was_dropped(pg) -> None:
    """A database restart kills the idle pooled connections too; pre-ping replaces them before use."""
    factory, killer, client = pg
    case_id, member, officer = _world(factory)
    engine = factory.kw["bind"]
    held = [engine.connect() for _ in range(3)]  # several connections into the pool, like after a busy period
    pids = {c.connection.dbapi_connection.info.backend_pid for c in held}
    for c in held:
        c.close()
    with psycopg.connect(killer.admin_url, autocommit=True) as admin:
        for pid in pids:
            assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
    for _ in range(4):  # more requests than dead connections: none of them may fail
        assert client.get(f"/api/v1/cases/{case_id}/stages", headers=member).status_code == 200
    assert client.get("/ready").json()["checks"]["database"] == "ok"
    assert client.get("/api/v1/cases", headers=officer).status_code == 200


def _read_pool_pids(admin_url: str) -> set[int]:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
                             [APPLICATION_NAME]).fetchall()
    return {pid for (pid,) in rows}


@pg_only
def test_read_path_survives_every_pooled_connection_being_dropped(pg) -> None:
    """GET /cases/{id} reads on the asyncpg pool: after a restart kills its connections, the read retries on new ones."""
    factory, killer, client = pg
    case_id, member, _ = _world(factory)
    first = client.get(f"/api/v1/cases/{case_id}", headers=member)
    assert first.status_code == 200
    before = _read_pool_pids(killer.admin_url)
    assert before, "the read went through the read pool"
    with psycopg.connect(killer.admin_url, autocommit=True) as admin:
        for pid in before:
            assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
    for _ in range(4):
        r = client.get(f"/api/v1/cases/{case_id}", headers=member)
        assert r.status_code == 200 and r.json() == first.json() and r.headers["etag"] == first.headers["etag"]
    after = _read_pool_pids(killer.admin_url)
    assert after and not (after & before)


def test_read_path_gives_503_when_the_database_is_unreachable(app, monkeypatch) -> None:  # noqa: ANN001
    """Nothing listens on the port: the read path answers 503 problem+json with Retry-After, not a 500."""
    dead = make_engine("postgresql://iop@127.0.0.1:1/iop")
    monkeypatch.setattr(service.db, "get_engine", lambda: dead)
    token, _ = create_token(1, "officer", get_settings())
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/cases/1", headers={"Authorization": f"Bearer {token}"})
    body = problem(r, 503)
    assert r.headers["retry-after"] == "5" and body["type"].endswith("/service-unavailable") and "asyncpg" not in r.text
    dead.dispose()


def test_ready_is_503_with_its_documented_body_when_the_database_is_unreachable(app, monkeypatch) -> None:  # noqa: ANN001
    """Nothing listens on the port: /ready says which dependency is down, in the schema it documents for 503."""
    dead = make_engine("postgresql://iop@127.0.0.1:1/iop")
    monkeypatch.setattr(service.db, "get_engine", lambda: dead)
    monkeypatch.setattr("service.app.get_engine", lambda: dead)
    with TestClient(app) as client:
        r = client.get("/ready")
    assert r.status_code == 503 and r.json()["status"] == "unavailable"
    assert r.json()["checks"]["database"].startswith("error: OperationalError")
    documented = app.openapi()["paths"]["/ready"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]
    assert documented == {"$ref": "#/components/schemas/Readiness"}
    dead.dispose()
