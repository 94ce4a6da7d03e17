"""Dashboards: my open deadlines and overdue cases per department; in-app notifications."""

from __future__ import annotations

from datetime import timedelta

from factories import World, auth, case, department, user
from helpers import problem

from service.auth.models import Role
from service.cases.stages import Stage
from service.config import get_settings
from service.db import utcnow
from service.deadlines import rules as deadlines
from service.deadlines.models import DeadlineKind, DeadlineStatus
from service.notifications.models import Notification


def test_my_deadlines_lists_the_officers_cases_soonest_first(client, db) -> None:
    w = World(db)
    s = get_settings()
    mine = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    theirs = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer2.id)
    later = deadlines.create(db, mine, DeadlineKind.DIALOGUE, s, due_at=utcnow() + timedelta(days=20))
    sooner = deadlines.create(db, mine, DeadlineKind.TRIAGE, s, due_at=utcnow() + timedelta(days=2))
    met = deadlines.create(db, mine, DeadlineKind.REVIEW, s, due_at=utcnow() + timedelta(days=1))
    met.status = DeadlineStatus.MET
    deadlines.create(db, theirs, DeadlineKind.DIALOGUE, s, due_at=utcnow() + timedelta(days=1))
    followup = deadlines.create(db, mine, DeadlineKind.FOLLOWUP_REPORT, s, due_at=utcnow() + timedelta(days=30))
    db.flush()
    ids = [d["id"] for d in client.get("/api/v1/dashboard/my-deadlines", headers=auth(w.officer)).json()]
    assert ids == [sooner.id, later.id, followup.id]
    # The organisation sees only what it must do itself (the report), never the officers' internal clocks.
    assert [d["id"] for d in client.get("/api/v1/dashboard/my-deadlines", headers=auth(w.member)).json()] == [followup.id]
    assert client.get("/api/v1/dashboard/my-deadlines", headers=auth(w.other_member)).json() == []


def test_overdue_per_department_counts_past_due_and_missed_deadlines(client, db) -> None:
    w = World(db)
    s = get_settings()
    other_dep = department(db)
    other_officer = user(db, Role.OFFICER, department=other_dep)
    late = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    fine = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    agreement = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    elsewhere = case(db, w.org, other_dep, stage=Stage.DIALOGUE, officer_id=other_officer.id)
    deadlines.create(db, late, DeadlineKind.DIALOGUE, s, due_at=utcnow() - timedelta(days=1))
    missed = deadlines.create(db, agreement, DeadlineKind.AGREEMENT_SIGNATURE, s, due_at=utcnow() - timedelta(days=9))
    missed.status = DeadlineStatus.MISSED
    deadlines.create(db, fine, DeadlineKind.DIALOGUE, s, due_at=utcnow() + timedelta(days=5))
    deadlines.create(db, elsewhere, DeadlineKind.DIALOGUE, s, due_at=utcnow() - timedelta(days=3))
    db.flush()
    rows = client.get("/api/v1/dashboard/overdue", headers=auth(w.officer)).json()
    by_stage = {r["stage"]: (r["open_cases"], r["overdue_deadlines"]) for r in rows if r["department_id"] == w.dep.id}
    assert by_stage == {"dialogue": (2, 1), "agreement": (1, 1)}
    assert other_dep.id not in {r["department_id"] for r in rows}  # an officer sees the own department only
    problem(client.get("/api/v1/dashboard/overdue", headers=auth(w.member)), 403)


def test_notifications_are_personal_and_can_be_marked_read(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    n = Notification(user_id=w.officer.id, case_id=c.id, kind="review.requested", title="Granskning begärd")
    db.add_all([n, Notification(user_id=w.approver.id, case_id=c.id, kind="x", title="Annan")])
    db.flush()
    listed = client.get("/api/v1/notifications?unread=true", headers=auth(w.officer)).json()
    assert [x["id"] for x in listed] == [n.id]
    problem(client.post(f"/api/v1/notifications/{n.id}/read", headers=auth(w.approver)), 404)
    r = client.post(f"/api/v1/notifications/{n.id}/read", headers=auth(w.officer))
    assert r.status_code == 200 and r.json()["read_at"]
    assert client.get("/api/v1/notifications?unread=true", headers=auth(w.officer)).json() == []
