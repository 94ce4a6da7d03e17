"""Suspension moves every open deadline by the suspended working days; extension moves one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from factories import World, auth, case
from helpers import problem

from service.cases.stages import Stage
from service.config import get_settings
from service.deadlines import clock
from service.deadlines import rules as deadlines
from service.deadlines.calendar import calendar_for
from service.deadlines.models import DeadlineKind, DeadlineStatus

STHLM = ZoneInfo("Europe/Stockholm")


def test_suspend_three_working_days_moves_every_open_deadline_by_three(db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    s = get_settings()
    cal = calendar_for(s.timezone)
    created = datetime(2026, 12, 1, 9, 0, tzinfo=STHLM)
    ds = [deadlines.create(db, c, kind, s, start=created, now=created) for kind in (DeadlineKind.DIALOGUE, DeadlineKind.TRIAGE)]
    met = deadlines.create(db, c, DeadlineKind.AGREEMENT_SIGNATURE, s, start=created, now=created)
    met.status = DeadlineStatus.MET
    before = {d.id: d.due_at for d in ds + [met]}
    # Suspended Monday 7 December, resumed Thursday 10 December: Tue, Wed, Thu = 3 working days.
    clock.suspend(db, w.officer, c, "Väntar på budget från föreningen", now=datetime(2026, 12, 7, 10, 0, tzinfo=STHLM))
    for d in ds + [met]:
        db.refresh(d)
    assert all(d.status == DeadlineStatus.SUSPENDED for d in ds) and met.status == DeadlineStatus.MET
    susp = clock.resume(db, w.officer, c, s, now=datetime(2026, 12, 10, 15, 0, tzinfo=STHLM))
    assert susp.working_days == 3
    for d in ds:
        db.refresh(d)
        assert d.status == DeadlineStatus.OPEN
        assert cal.working_days_between(cal.local_date(before[d.id]), cal.local_date(d.due_at)) == 3
        assert cal.local(d.due_at).time() == cal.local(before[d.id]).time()
    db.refresh(met)
    assert met.due_at == before[met.id]


def test_suspend_over_christmas_counts_only_working_days(db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    s = get_settings()
    d = deadlines.create(db, c, DeadlineKind.DIALOGUE, s, start=datetime(2026, 12, 1, 9, 0, tzinfo=STHLM))
    clock.suspend(db, w.officer, c, "Jul", now=datetime(2026, 12, 23, 10, 0, tzinfo=STHLM))
    # 24–27 Dec are not working days (julafton, juldagen, annandag jul, weekend): only 28 Dec counts.
    assert clock.resume(db, w.officer, c, s, now=datetime(2026, 12, 28, 10, 0, tzinfo=STHLM)).working_days == 1
    db.refresh(d)
    assert d.status == DeadlineStatus.OPEN


def test_api_suspend_resume_extend_and_audit(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    d = deadlines.create(db, c, DeadlineKind.DIALOGUE, get_settings())
    problem(client.post(f"/api/v1/cases/{c.id}/suspend", json={"reason": "Väntar"}, headers=auth(w.member)), 403)
    assert client.post(f"/api/v1/cases/{c.id}/suspend", json={"reason": "Väntar på underlag"}, headers=auth(w.officer)).status_code == 201
    problem(client.post(f"/api/v1/cases/{c.id}/suspend", json={"reason": "igen"}, headers=auth(w.officer)), 409)
    listed = client.get(f"/api/v1/cases/{c.id}/deadlines", headers=auth(w.officer)).json()
    assert [x["status"] for x in listed] == ["suspended"]
    # The dialogue deadline is the department's own clock: the organisation does not see it.
    assert client.get(f"/api/v1/cases/{c.id}/deadlines", headers=auth(w.member)).json() == []
    r = client.post(f"/api/v1/cases/{c.id}/resume", headers=auth(w.approver))
    assert r.status_code == 200 and r.json()["working_days"] == 0
    body = {"working_days": 5, "reason": "Organisationen har bytt styrelse"}
    r = client.post(f"/api/v1/cases/{c.id}/deadlines/{d.id}/extend", json=body, headers=auth(w.officer))
    assert r.status_code == 200, r.text
    cal = calendar_for("Europe/Stockholm")
    assert cal.working_days_between(cal.local_date(d.original_due_at), cal.local_date(datetime.fromisoformat(r.json()["due_at"]))) == 5
    assert r.json()["extension_reason"] == body["reason"]
    problem(client.post(f"/api/v1/cases/{c.id}/deadlines/{d.id}/extend", json={"reason": "x y z"}, headers=auth(w.officer)), 422)
    events = client.get(f"/api/v1/cases/{c.id}/audit", headers=auth(w.registrar)).json()
    assert {"case.suspended", "case.resumed", "deadline.extended"} <= {e["action"] for e in events}
    # Reasons are free text (they may name a person): the append-only audit keeps only that one was given.
    assert "Väntar på underlag" not in str(events) and body["reason"] not in str(events)


def test_stage_changes_create_and_close_deadlines(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member))
    kinds = lambda: {(x["kind"], x["status"]) for x in client.get(f"/api/v1/cases/{c.id}/deadlines", headers=auth(w.officer)).json()}  # noqa: E731
    assert kinds() == {("triage", "open")}
    client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": w.officer.id}, headers=auth(w.officer))
    assert kinds() == {("triage", "met")}
    rid = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).json()["id"]
    assert ("review", "open") in kinds()
    client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": "approve"}, headers=auth(w.approver))
    assert kinds() == {("triage", "met"), ("review", "met"), ("dialogue", "open")}
    client.post(f"/api/v1/cases/{c.id}/withdraw", json={}, headers=auth(w.member))
    assert kinds() == {("triage", "met"), ("review", "met"), ("dialogue", "cancelled")}
    mine = client.get("/api/v1/notifications", headers=auth(w.member)).json()
    assert isinstance(mine, list)
