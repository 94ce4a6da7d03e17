"""The one definition of overdue, as the API's list filter and the domain function apply it."""

from __future__ import annotations

from datetime import timedelta

from factories import World, auth, case

from service.cases.stages import Stage
from service.config import get_settings
from service.dashboard.overdue import is_overdue, overdue_case_ids
from service.db import utcnow
from service.deadlines.models import DeadlineKind, DeadlineStatus
from service.deadlines.rules import create
from service.reviews.models import Review, ReviewStatus


def test_pending_review_open_and_missed_deadlines_are_overdue_suspended_and_met_are_not(client, db) -> None:
    w = World(db)
    s = get_settings()
    past = utcnow() - timedelta(days=2)
    cases = {name: case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id, title=name)
             for name in ("review", "open", "missed", "suspended", "met", "future")}
    db.add(Review(case_id=cases["review"].id, from_stage=Stage.DIALOGUE, to_stage=Stage.AGREEMENT, requested_by_id=w.officer.id,
                  status=ReviewStatus.PENDING, due_at=past))
    create(db, cases["open"], DeadlineKind.DIALOGUE, s, due_at=past)
    for name, status in (("missed", DeadlineStatus.MISSED), ("suspended", DeadlineStatus.SUSPENDED), ("met", DeadlineStatus.MET)):
        create(db, cases[name], DeadlineKind.DIALOGUE, s, due_at=past).status = status
    create(db, cases["future"], DeadlineKind.DIALOGUE, s, due_at=utcnow() + timedelta(days=5))
    db.flush()

    expected = {cases[n].id for n in ("review", "open", "missed")}
    assert overdue_case_ids(db, w.officer) == expected
    assert {c.id for c in cases.values() if is_overdue(db, c)} == expected
    assert overdue_case_ids(db, w.other_member) == set()  # the visibility rule applies too

    listed = client.get("/api/v1/cases", params={"overdue": "true", "limit": 50}, headers=auth(w.officer)).json()["items"]
    assert {c["id"] for c in listed} == expected
    rest = client.get("/api/v1/cases", params={"overdue": "false", "limit": 50}, headers=auth(w.officer)).json()["items"]
    assert {c["id"] for c in rest} == {c.id for c in cases.values()} - expected
