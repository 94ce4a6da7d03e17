"""Idempotency-Key on creating POSTs: a retry returns the first response and creates nothing twice."""

from __future__ import annotations

from factories import World, auth, case
from helpers import problem, race
from sqlalchemy import func, select

from service.cases.models import Case
from service.cases.stages import Stage
from service.documents.models import Document
from service.messages.models import Message
from tests.test_concurrency import real  # noqa: F401  (the committing fixture)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _count(db, model, **where) -> int:  # noqa: ANN001
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return db.scalar(stmt)


def test_retried_case_creation_returns_the_first_response(client, db) -> None:
    w = World(db)
    body = {"title": "Läxhjälp i Norrby", "department_id": w.dep.id}
    key = {"Idempotency-Key": "7f1c2a9e-retry-1"}
    first = client.post("/api/v1/cases", json=body, headers={**auth(w.member), **key})
    assert first.status_code == 201 and "idempotency-replayed" not in first.headers
    again = client.post("/api/v1/cases", json=body, headers={**auth(w.member), **key})
    assert again.status_code == 201 and again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert _count(db, Case, organisation_id=w.org.id) == 1
    # The same key with another request is refused and changes nothing.
    err = problem(client.post("/api/v1/cases", json={**body, "title": "Annat"}, headers={**auth(w.member), **key}), 422)
    assert err["errors"][0]["field"] == "header.Idempotency-Key"
    assert _count(db, Case, organisation_id=w.org.id) == 1
    # Keys are per user, and without a key every POST creates.
    other = client.post("/api/v1/cases", json=body, headers={**auth(w.other_member), **key})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    client.post("/api/v1/cases", json=body, headers=auth(w.member))
    client.post("/api/v1/cases", json=body, headers=auth(w.member))
    assert _count(db, Case, organisation_id=w.org.id) == 3
    problem(client.post("/api/v1/cases", json=body, headers={**auth(w.member), "Idempotency-Key": "x" * 201}), 422)


def test_a_refused_request_stores_nothing_under_its_key(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    key = {"Idempotency-Key": "meeting-1"}
    meeting = {"held_on": "2026-11-02", "participants": [{"name": "Anna"}], "notes": "Bra möte"}
    problem(client.post(f"/api/v1/cases/{c.id}/meetings", json=meeting, headers={**auth(w.member), **key}), 403)
    r = client.post(f"/api/v1/cases/{c.id}/meetings", json=meeting, headers={**auth(w.officer), **key})
    assert r.status_code == 201 and "idempotency-replayed" not in r.headers


def test_retried_upload_and_message_are_stored_once(client, db, tmp_path) -> None:  # noqa: ANN001
    from service.documents import service as documents
    from storage.filesystem import FilesystemStore

    store = FilesystemStore(tmp_path / "objects")
    client.app.dependency_overrides[documents.get_store] = lambda: store
    try:
        w = World(db)
        c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
        headers = {**auth(w.member), "Idempotency-Key": "upload-budget-2027"}
        # Each retry is a new multipart body (new boundary): the key still recognises the same upload.
        ups = [client.post(f"/api/v1/cases/{c.id}/attachments", files={"file": ("budget.pdf", PDF, "application/pdf")}, headers=headers)
               for _ in range(2)]
        assert [u.status_code for u in ups] == [201, 201] and ups[0].json() == ups[1].json()
        assert _count(db, Document, case_id=c.id) == 1
        problem(client.post(f"/api/v1/cases/{c.id}/attachments", files={"file": ("budget.pdf", PDF + b"x", "application/pdf")},
                            headers=headers), 422)
        mh = {**auth(w.member), "Idempotency-Key": "msg-1"}
        m = [client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Hej!"}, headers=mh) for _ in range(3)]
        assert {x.status_code for x in m} == {201} and m[0].json() == m[2].json()
        assert _count(db, Message, case_id=c.id) == 1
    finally:
        client.app.dependency_overrides.pop(documents.get_store, None)


def test_concurrent_twins_create_one_case(app, real) -> None:  # noqa: F811
    with real() as s:
        w = World(s)
        member, dep_id, org_id = auth(w.member), w.dep.id, w.org.id
        s.commit()
    headers = {**member, "Idempotency-Key": "twin-1"}
    body = {"title": "Samtidigt förslag", "department_id": dep_id}
    results = race(app, [lambda c: c.post("/api/v1/cases", json=body, headers=headers)] * 4)
    codes = sorted(r.status_code for r in results)
    assert set(codes) <= {201, 409} and codes.count(201) >= 1, [r.text for r in results]
    assert len({r.json()["id"] for r in results if r.status_code == 201}) == 1  # every 201 is the same case
    with real() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.organisation_id == org_id)) == 1
