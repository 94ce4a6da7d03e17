"""Issue 21: a frozen PostgreSQL (SIGSTOP of a server of this test's own) answers 503 + Retry-After within seconds.

Reads (the asyncpg read path), writes (the request session), login and /ready each come back within 5 s instead
of hanging for ever; after SIGCONT the same requests work again on fresh connections.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from factories import PASSWORD, World, auth, case
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.cases.stages import Stage
from service.migrate import upgrade

LIMIT_S = 5.0


@pytest.fixture
def frozen_app(private_postgres, monkeypatch) -> Iterator[tuple]:  # noqa: ANN001
    from service import db
    from service.app import create_app
    from service.config import get_settings

    upgrade(private_postgres.url)
    monkeypatch.setenv("IOP_DATABASE_URL", private_postgres.url)
    monkeypatch.setenv("IOP_DB_TIMEOUT_SECONDS", os.environ.get("IOP_TEST_DB_TIMEOUT", "2"))
    for fn in (get_settings, db.get_engine, db.get_sessionmaker):
        fn.cache_clear()
    try:
        with Session(db.get_engine()) as s:
            w = World(s)
            c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
            s.commit()
            ids = {"case": c.id, "officer": auth(w.officer), "member": auth(w.member), "email": w.officer.email}
        app = create_app()
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, ids, private_postgres
    finally:
        db.get_engine().dispose()
        for fn in (get_settings, db.get_engine, db.get_sessionmaker):
            fn.cache_clear()


def _timed(call):  # noqa: ANN001, ANN202
    start = time.monotonic()
    r = call()
    return r, time.monotonic() - start


def test_a_frozen_database_answers_503_within_seconds(frozen_app) -> None:  # noqa: ANN001
    client, ids, server = frozen_app
    cid, officer = ids["case"], ids["officer"]
    calls = {
        "read": lambda: client.get(f"/api/v1/cases/{cid}", headers=officer),
        "list": lambda: client.get("/api/v1/cases", headers=officer),
        "write": lambda: client.post(f"/api/v1/cases/{cid}/messages", json={"body": "Hej"}, headers=officer),
        "login": lambda: client.post("/api/v1/auth/token", data={"username": ids["email"], "password": PASSWORD}),
        "ready": lambda: client.get("/ready"),
    }
    for name, call in calls.items():  # warm: every path has pooled connections to the server about to freeze
        assert call().status_code < 300, name
    server.freeze()
    try:
        for name, call in calls.items():
            r, took = _timed(call)
            assert r.status_code == 503, (name, r.status_code, r.text[:300])
            assert took < LIMIT_S, (name, took)
            if name != "ready":
                assert r.headers["content-type"].startswith("application/problem+json") and r.headers.get("retry-after"), name
    finally:
        server.thaw()
    for name, call in calls.items():  # back on fresh connections, nothing to restart
        r = call()
        assert r.status_code < 300, (name, r.status_code, r.text[:300])
