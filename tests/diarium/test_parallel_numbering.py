"""Parallel writers on one case (messages and uploads, real commits) each get their own löpnummer: 1..n, no 409, no gap."""

from __future__ import annotations

import pytest
from factories import World, auth, case
from helpers import committing_sessions, drop_sessions, race, use_sessions
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from service.cases.stages import Stage
from service.db import make_engine
from service.diarium.models import DiaryEntry
from service.documents import service as documents
from service.reads import reader_for
from storage.filesystem import FilesystemStore

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def real(app, backend, tmp_path):  # noqa: ANN001, ANN201
    """The app committing for real on its own database."""
    url = backend.clone()
    engine = make_engine(url, pool_size=20, timeout=10.0)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    store = FilesystemStore(tmp_path / "objects")
    use_sessions(app, committing_sessions(factory), reader_for(engine))
    app.dependency_overrides[documents.get_store] = lambda: store
    yield factory
    drop_sessions(app)
    app.dependency_overrides.pop(documents.get_store, None)
    engine.dispose()
    backend.drop(url)


def test_parallel_handlings_get_consecutive_numbers(app, real) -> None:  # noqa: ANN001
    with real() as s:
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
        s.commit()
        case_id, member, officer = c.id, auth(w.member), auth(w.officer)
    calls = [(lambda cl, i=i: cl.post(f"/api/v1/cases/{case_id}/messages", json={"body": f"Meddelande {i}"},
                                      headers=member if i % 2 else officer)) for i in range(6)]
    calls += [(lambda cl, i=i: cl.post(f"/api/v1/cases/{case_id}/attachments", headers=member,
                                       files={"file": (f"bilaga{i}.pdf", PDF, "application/pdf")})) for i in range(4)]
    results = race(app, calls)
    assert [r.status_code for r in results] == [201] * 10, [r.text[:200] for r in results if r.status_code != 201]
    with real() as s:
        rows = s.scalars(select(DiaryEntry).where(DiaryEntry.case_id == case_id).order_by(DiaryEntry.number)).all()
    assert [e.number for e in rows] == list(range(1, 11))
    assert {e.message_id for e in rows if e.message_id} == {r.json()["id"] for r in results[:6]}
    assert {e.document_id for e in rows if e.document_id} == {r.json()["id"] for r in results[6:]}
