"""Real commits, real threads: board-minutes versions stay unique, one registration per e-mail wins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from factories import World, auth, make_orgnr
from fastapi.testclient import TestClient
from helpers import committing_sessions, drop_sessions, use_sessions, race
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from service.auth.models import User
from service.reads import reader_for
from service.documents import service as documents
from service.documents.models import Document
from storage.filesystem import FilesystemStore

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def real(app, fresh_engine, tmp_path):  # noqa: ANN001, ANN201
    """App whose requests commit for real on a database of this test's own, with a filesystem store."""
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)

    store = FilesystemStore(tmp_path / "objects")
    use_sessions(app, committing_sessions(factory), reader_for(fresh_engine))
    app.dependency_overrides[documents.get_store] = lambda: store
    yield factory
    drop_sessions(app)
    app.dependency_overrides.pop(documents.get_store, None)




def test_concurrent_board_minutes_get_distinct_versions(app, real) -> None:
    with real() as s:
        w = World(s)
        s.commit()
        org_id, member = w.org.id, w.member

    def upload(n: int) -> Callable[[TestClient], Any]:
        return lambda c: c.post(f"/api/v1/organisations/{org_id}/overenskommelse", data={"date": "2026-03-12"},
                                files={"file": (f"protokoll-{n}.pdf", PDF + str(n).encode(), "application/pdf")}, headers=auth(member))

    results = race(app, [upload(n) for n in range(4)])
    assert [r.status_code for r in results] == [201] * 4, [r.text for r in results]
    with real() as s:
        versions = sorted(s.scalars(select(Document.version).where(Document.organisation_id == org_id)))
    assert versions == [1, 2, 3, 4]


def test_concurrent_registrations_one_email_one_account(app, real) -> None:
    def register(n: int) -> Callable[[TestClient], Any]:
        return lambda c: c.post("/api/v1/auth/register", json={
            "email": "samma@forening.example.se", "password": "ett-långt-lösen", "full_name": f"Person {n}",
            "organisation": {"name": f"Förening {n}", "orgnr": make_orgnr(), "legal_form": "ideell_forening"}})

    results = race(app, [register(n) for n in range(3)])
    # Alike for everyone (registration reveals no e-mails): the losers of the race are told like a known e-mail.
    assert [r.status_code for r in results] == [202] * 3, [r.text for r in results]
    with real() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.email == "samma@forening.example.se")) == 1
