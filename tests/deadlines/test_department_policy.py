"""A department overrides the SPEC's deadline defaults; new deadlines follow, bad overrides are refused by field."""

from __future__ import annotations

from datetime import datetime

from factories import World, auth, case
from helpers import problem

from service.audit.models import AuditEvent
from service.cases.stages import Stage
from service.deadlines.calendar import calendar_for
from service.deadlines.models import Deadline, DeadlineKind


def test_admin_overrides_triage_and_new_cases_follow(client, db) -> None:
    w = World(db)
    url = f"/api/v1/departments/{w.dep.id}/deadline-policy"
    got = client.get(url, headers=auth(w.officer)).json()
    assert got["effective"]["triage"]["due"] == {"working_days": 5} and got["overrides"] == {}
    body = {"kinds": {"triage": {"due": {"working_days": 3}, "reminders": [{"working_days": 0}, {"working_days": -1}]}},
            "escalation_email": "socialtjanst.registrator@exempelstad.se"}
    problem(client.put(url, json=body, headers=auth(w.officer)), 403)
    r = client.put(url, json=body, headers=auth(w.admin))
    assert r.status_code == 200, r.text
    triage = r.json()["effective"]["triage"]
    assert triage["due"] == {"working_days": 3} and triage["reminders"] == [{"working_days": -1}, {"working_days": 0}]
    assert triage["escalation"] == "approvers"  # not overridden: the SPEC's default stays
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    submitted = client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member))
    assert submitted.status_code == 200, submitted.text
    d = db.query(Deadline).filter_by(case_id=c.id, kind=DeadlineKind.TRIAGE).one()
    cal = calendar_for("Europe/Stockholm")
    submitted_on = cal.local_date(datetime.fromisoformat(submitted.json()["submitted_at"]))
    assert cal.working_days_between(submitted_on, cal.local_date(d.due_at)) == 3
    assert [o["working_days"] for o in d.reminder_offsets] == [-1, 0]
    changed = db.query(AuditEvent).filter_by(action="department.deadline_policy_changed", actor_id=w.admin.id).one()
    assert changed.after["overrides"]["triage"]["due"] == {"working_days": 3}


def test_bad_overrides_name_the_field_and_change_nothing(client, db) -> None:
    w = World(db)
    url = f"/api/v1/departments/{w.dep.id}/deadline-policy"
    cases_ = [
        ({"kinds": {"followup_report": {"due": {"days": 10}}}}, "kinds.followup_report.due"),
        ({"kinds": {"review": {"reminders": [{"working_days": -2}, {"days": 3}]}}}, "kinds.review.reminders.1"),
        ({"kinds": {"dialogue": {"due": {"days": 0}}}}, "kinds.dialogue.due"),
        ({"kinds": {"dialogue": {"escalation_delay": {"days": -1}}}}, "kinds.dialogue.escalation_delay"),
    ]
    for body, field in cases_:
        err = problem(client.put(url, json=body, headers=auth(w.admin)), 422)
        assert field in [e["field"] for e in err["errors"]], (field, err)
    err = problem(client.put(url, json={"kinds": {"review": {"due": {"days": 3, "working_days": 2}}}}, headers=auth(w.admin)), 422)
    assert any(e["field"].startswith("kinds.review.due") for e in err["errors"])
    problem(client.put(url, json={"kinds": {"nonsense": {}}}, headers=auth(w.admin)), 422)
    problem(client.put(url, json={"kinds": {"review": {"escalation": "everyone"}}}, headers=auth(w.admin)), 422)
    assert client.get(url, headers=auth(w.admin)).json()["overrides"] == {}
    problem(client.get("/api/v1/departments/999999/deadline-policy", headers=auth(w.admin)), 404)
    problem(client.get(url, headers=auth(w.member)), 403)
