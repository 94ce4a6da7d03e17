"""Real commits, real threads: board-minutes versions stay unique, one registration per e-mail wins."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from factories import World, auth, make_orgnr
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.auth.models import User
from service.db import session_scope
from service.documents import service as documents
from service.documents.models import Document
from storage.filesystem import FilesystemStore

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def real(app, fresh_engine, tmp_path):  # noqa: ANN001, ANN201
    """App whose requests commit for real on a database of this test's own, with a filesystem store."""
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)

    def _session() -> Iterator[Session]:
        s = factory()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    store = FilesystemStore(tmp_path / "objects")
    app.dependency_overrides[session_scope] = _session
    app.dependency_overrides[documents.get_store] = lambda: store
    yield factory
    app.dependency_overrides.pop(session_scope, None)
    app.dependency_overrides.pop(documents.get_store, None)


def _race(app, calls: list[Callable[[TestClient], Any]]) -> list[Any]:  # noqa: ANN001
    """Run the calls in threads released together by a barrier; each gets its own client."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        with TestClient(app, raise_server_exceptions=False) as c:
            barrier.wait()
            results[i] = calls[i](c)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_board_minutes_get_distinct_versions(app, real) -> None:
    with real() as s:
        w = World(s)
        s.commit()
        org_id, member = w.org.id, w.member

    def upload(n: int) -> Callable[[TestClient], Any]:
        return lambda c: c.post(f"/api/v1/organisations/{org_id}/overenskommelse", data={"date": "2026-03-12"},
                                files={"file": (f"protokoll-{n}.pdf", PDF + str(n).encode(), "application/pdf")}, headers=auth(member))

    results = _race(app, [upload(n) for n in range(4)])
    assert [r.status_code for r in results] == [201] * 4, [r.text for r in results]
    with real() as s:
        versions = sorted(s.scalars(select(Document.version).where(Document.organisation_id == org_id)))
    assert versions == [1, 2, 3, 4]


def test_concurrent_registrations_one_email_one_account(app, real) -> None:
    def register(n: int) -> Callable[[TestClient], Any]:
        return lambda c: c.post("/api/v1/auth/register", json={
            "email": "samma@forening.example.se", "password": "ett-långt-lösen", "full_name": f"Person {n}",
            "organisation": {"name": f"Förening {n}", "orgnr": make_orgnr(), "legal_form": "ideell_forening"}})

    results = _race(app, [register(n) for n in range(3)])
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409], [r.text for r in results]
    with real() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.email == "samma@forening.example.se")) == 1
