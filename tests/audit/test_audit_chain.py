"""The audit trail is append-only, chained, verifiable, and detects tampering."""

from __future__ import annotations

import pytest
from factories import World, auth, case
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.cases.stages import Stage


def _walk(client, w, c) -> None:  # noqa: ANN001
    etag = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member)).headers["etag"]
    client.patch(f"/api/v1/cases/{c.id}", json={"title": "Läxhjälp & trygghet <Norrby>"}, headers={**auth(w.member), "If-Match": etag})
    client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member))
    client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": w.officer.id}, headers=auth(w.officer))
    rid = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).json()["id"]
    client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": "approve"}, headers=auth(w.approver))


def test_every_change_is_chained_and_verifies(client, db) -> None:
    w = World(db)
    r = client.post("/api/v1/cases", json={"title": "Läxhjälp", "department_id": w.dep.id, **{k: v for k, v in {
        "need": "Barn behöver stöd", "target_group": "Mellanstadiet", "planned_activities": "Läxhjälp två kvällar",
        "volunteer_hours": 300, "requested_amount_sek": 150_000, "period_start": "2027-01-01", "period_end": "2027-12-31"}.items()}},
        headers=auth(w.member))
    from service.cases.models import Case

    c = db.get(Case, r.json()["id"])
    _walk(client, w, c)
    events = client.get(f"/api/v1/cases/{c.id}/audit", headers=auth(w.registrar)).json()
    assert [e["action"] for e in events] == ["case.created", "case.updated", "case.submitted", "case.officer_assigned", "review.requested", "review.approved"]
    assert [e["seq"] for e in events] == list(range(1, 7))
    assert all(events[i]["prev_hash"] == events[i - 1]["hash"] for i in range(1, len(events)))
    assert events[2]["after"]["stage"] == "identify_need" and events[2]["before"]["stage"] == "draft"
    v = client.get(f"/api/v1/cases/{c.id}/audit/verify", headers=auth(w.registrar)).json()
    assert v == {"stream": f"case:{c.id}", "valid": True, "events": 6, "broken_at_seq": None, "reason": None}
    # Organisation members do not read the audit trail.
    assert client.get(f"/api/v1/cases/{c.id}/audit", headers=auth(w.member)).status_code == 403


def test_database_refuses_update_and_delete(db) -> None:
    w = World(db)
    from service.audit.service import record

    ev = record(db, actor=w.member, action="case.created", stream="test:1", after={"x": 1})
    for sql in ("UPDATE audit_events SET action = 'forged' WHERE id = :id", "DELETE FROM audit_events WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
            db.execute(text(sql), {"id": ev.id})


def test_tampering_is_detected(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    from service.audit.service import record

    for i in range(4):
        record(db, actor=w.member, action="case.updated", case_id=c.id, after={"title": f"v{i}"})
    assert client.get(f"/api/v1/cases/{c.id}/audit/verify", headers=auth(w.registrar)).json()["valid"] is True
    # Someone with database access bypasses the append-only trigger and edits event 3.
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
    else:
        db.execute(text("DROP TRIGGER audit_events_no_update"))
    db.execute(text("UPDATE audit_events SET after = :a WHERE stream = :s AND seq = 3"), {"a": '{"title": "förfalskad"}', "s": f"case:{c.id}"})
    v = client.get(f"/api/v1/cases/{c.id}/audit/verify", headers=auth(w.registrar)).json()
    assert v["valid"] is False and v["broken_at_seq"] == 3 and "content" in v["reason"]


def test_record_many_continues_each_chain_like_record_one_by_one(db) -> None:
    """The sweep's batch append: existing heads are continued, two events of one stream chain to each other."""
    from service.audit.service import record, record_many, verify

    w = World(db)
    a, b = case(db, w.org, w.dep, stage=Stage.DIALOGUE), case(db, w.org, w.dep, stage=Stage.DIALOGUE)
    for i in range(3):
        record(db, actor=w.officer, action="case.updated", case_id=a.id, after={"n": i})
    made = record_many(db, [{"action": "deadline.missed", "case_id": a.id, "after": {"deadline_id": 1}},
                            {"action": "deadline.missed", "case_id": b.id, "after": {"deadline_id": 2}},
                            {"action": "deadline.missed", "case_id": a.id, "after": {"deadline_id": 3}},
                            {"action": "note", "stream": "test:many"}])
    assert [(e.stream, e.seq) for e in made] == [(f"case:{a.id}", 4), (f"case:{b.id}", 1), (f"case:{a.id}", 5), ("test:many", 1)]
    assert made[2].prev_hash == made[0].hash
    record(db, actor=None, action="case.updated", case_id=b.id)  # and record() continues after them
    for stream in (f"case:{a.id}", f"case:{b.id}", "test:many"):
        report = verify(db, stream)
        assert report.valid, report
    assert (verify(db, f"case:{a.id}").events, verify(db, f"case:{b.id}").events) == (5, 2)
