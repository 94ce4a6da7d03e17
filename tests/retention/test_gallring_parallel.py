"""Parallel registrars (real commits, SQLite and PostgreSQL): one proposed list with each handling once, one approval."""

from __future__ import annotations

from datetime import UTC, datetime

from factories import World, auth
from gallring_world import add, close, open_case
from helpers import race
from sqlalchemy import func, select, update

from service.cases.models import StageChange
from service.retention.models import DisposalDecision, DisposalItem
from tests.diarium.test_parallel_numbering import real  # noqa: F401  (the fixture)


def test_parallel_proposals_make_one_list_and_parallel_approvals_one_decision(app, real, tmp_path) -> None:  # noqa: ANN001, F811
    from service.documents import service as documents

    store = app.dependency_overrides[documents.get_store]()
    with real() as s:
        w = World(s)
        c = open_case(s, w)
        for n in range(3):
            add(s, store, w, c, name=f"bilaga-{n}.pdf")
        close(s, w, c)
        s.execute(update(StageChange).where(StageChange.case_id == c.id).values(at=datetime(2015, 3, 2, tzinfo=UTC)))
        s.commit()
        registrar = auth(w.registrar)
    made = race(app, [lambda cl: cl.post("/api/v1/retention/decisions", headers=registrar) for _ in range(4)])
    assert sorted(r.status_code for r in made) == [200, 200, 200, 201], [r.text[:200] for r in made]
    assert len({r.json()["id"] for r in made}) == 1
    with real() as s:
        assert s.scalar(select(func.count()).select_from(DisposalDecision)) == 1
        assert s.scalar(select(func.count(DisposalItem.id))) == s.scalar(select(func.count(func.distinct(DisposalItem.document_id)))) == 3
    decision_id = made[0].json()["id"]
    approved = race(app, [lambda cl: cl.post(f"/api/v1/retention/decisions/{decision_id}/approve", json={}, headers=registrar)
                          for _ in range(3)])
    assert sorted(r.status_code for r in approved) == [200, 409, 409], [r.text[:200] for r in approved]
