"""Real concurrency with real commits: one decision wins, diarienummer stay unique and gap-free."""

from __future__ import annotations


import pytest
from factories import World, auth, case
from fastapi.testclient import TestClient
from helpers import committing_sessions, drop_sessions, use_sessions, race
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from service.cases.diarie import next_diarienummer
from service.cases.models import Case
from service.cases.stages import Stage
from service.reads import reader_for
from service.db import utcnow
from service.reviews.models import Review


@pytest.fixture
def real(app, fresh_engine):  # noqa: ANN001, ANN201
    """App whose requests commit for real on a database of this test's own."""
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)

    use_sessions(app, committing_sessions(factory), reader_for(fresh_engine))
    yield factory
    drop_sessions(app)




def test_concurrent_decisions_exactly_one_wins(app, real) -> None:
    with real() as s:
        w = World(s)
        approvers = [w.approver, w.approver2]
        from factories import user
        from service.auth.models import Role

        approvers += [user(s, Role.APPROVER, department=w.dep, delegated_limit_sek=10_000_000) for _ in range(4)]
        c = case(s, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
        review = Review(case_id=c.id, from_stage=Stage.IDENTIFY_NEED, to_stage=Stage.DIALOGUE, requested_by_id=w.officer.id, requested_at=utcnow())
        s.add(review)
        s.commit()
        case_id, review_id, headers = c.id, review.id, [auth(a) for a in approvers]
    decisions = ["approve", "reject", "approve", "changes_requested", "reject", "approve"]
    results = race(app, [
        (lambda c, h=h, d=d: c.post(f"/api/v1/cases/{case_id}/reviews/{review_id}/decision", json={"decision": d, "motivation": "Beslut"}, headers=h))
        for h, d in zip(headers, decisions, strict=True)
    ])
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409, 409, 409], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()
    with real() as s:
        stored = s.get(Review, review_id)
        assert stored.status == winner["status"] and stored.decided_by_id == winner["decided_by_id"]
        expected_stage = {"approved": "dialogue", "rejected": "rejected", "changes_requested": "identify_need"}[stored.status]
        assert s.get(Case, case_id).stage == expected_stage
    # The audit chain recorded exactly one decision and still verifies.
    with TestClient(app) as cl:
        events = cl.get(f"/api/v1/cases/{case_id}/audit", headers=headers[0]).json()
        assert sum(e["action"].startswith("review.") for e in events) == 1
        assert cl.get(f"/api/v1/cases/{case_id}/audit/verify", headers=headers[0]).json()["valid"] is True


def test_concurrent_submissions_get_distinct_gap_free_numbers(app, real) -> None:
    n = 8
    with real() as s:
        w = World(s)
        ids = [case(s, w.org, w.dep, stage=Stage.DRAFT).id for _ in range(n)]
        prefix, member = w.dep.diarie_prefix, auth(w.member)
        s.commit()
    results = race(app, [(lambda c, i=i: c.post(f"/api/v1/cases/{i}/submit", headers=member)) for i in ids])
    assert [r.status_code for r in results] == [200] * n, [r.text for r in results]
    year = utcnow().year
    numbers = sorted(r.json()["diarienummer"] for r in results)
    assert numbers == [f"{prefix} {year}/{k:04d}" for k in range(1, n + 1)]
    # A submission that fails after taking a number gives it back: the next one follows without a gap.
    with real() as s:
        taken = next_diarienummer(s, prefix, utcnow())
        assert taken == f"{prefix} {year}/{n + 1:04d}"
        s.rollback()
    with real() as s:
        extra = case(s, s.get(Case, ids[0]).organisation, s.get(Case, ids[0]).department, stage=Stage.DRAFT)
        s.commit()
        extra_id = extra.id
    with TestClient(app) as c:
        assert c.post(f"/api/v1/cases/{extra_id}/submit", headers=member).json()["diarienummer"] == f"{prefix} {year}/{n + 1:04d}"
    with real() as s:
        assert len(set(s.scalars(select(Case.diarienummer).where(Case.diarienummer.is_not(None))))) == n + 1


def test_concurrent_edits_one_wins_other_gets_409(app, real) -> None:
    with real() as s:
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DRAFT)
        s.commit()
        cid, member, version = c.id, auth(w.member), c.version
    results = race(app, [
        (lambda cl, t=t: cl.patch(f"/api/v1/cases/{cid}", json={"title": t}, headers={**member, "If-Match": f'"{version}"'}))
        for t in ("Titel A", "Titel B", "Titel C")
    ])
    assert sorted(r.status_code for r in results) == [200, 409, 409], [r.text for r in results]
    with real() as s:
        assert s.get(Case, cid).title == next(r for r in results if r.status_code == 200).json()["title"]


def test_parallel_messages_on_one_case_all_land(app, real) -> None:
    """Issue 21: ten writers on one case, no version conflict between them: ten 201s, never a spurious 409."""
    with real() as s:
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
        s.commit()
        cid, headers = c.id, [auth(w.member) if i % 2 else auth(w.officer) for i in range(10)]
    results = race(app, [(lambda cl, i=i: cl.post(f"/api/v1/cases/{cid}/messages", json={"body": f"Meddelande {i}"}, headers=headers[i]))
                         for i in range(10)])
    assert [r.status_code for r in results] == [201] * 10, [r.text[:300] for r in results]
    from service.messages.models import Message

    with real() as s:
        assert len(s.scalars(select(Message).where(Message.case_id == cid)).all()) == 10


def test_parallel_uploads_on_one_case_all_land(app, real, tmp_path) -> None:
    """Issue 21: eight attachments at once on one case get versions 1–8, not a 409 for all but one."""
    from service.documents import service as documents
    from storage.filesystem import FilesystemStore

    store = FilesystemStore(tmp_path / "objects")
    app.dependency_overrides[documents.get_store] = lambda: store
    try:
        with real() as s:
            w = World(s)
            c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
            s.commit()
            cid, member = c.id, auth(w.member)
        pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        results = race(app, [(lambda cl, i=i: cl.post(f"/api/v1/cases/{cid}/attachments", headers=member,
                                                      files={"file": (f"bilaga{i}.pdf", pdf, "application/pdf")})) for i in range(8)])
        assert [r.status_code for r in results] == [201] * 8, [r.text[:300] for r in results]
        assert sorted(r.json()["version"] for r in results) == list(range(1, 9))
    finally:
        app.dependency_overrides.pop(documents.get_store, None)
