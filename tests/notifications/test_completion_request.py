"""An officer asks the organisation for completion directly (not only an approver through a decision): audited, the
organisation told in-app and by e-mail with what to complete, and the completion reported back to that officer."""

from __future__ import annotations

from factories import World, auth, case
from helpers import problem
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.cases.stages import Stage
from service.notifications.models import Notification
from tests.auth.support import Real, body, real  # noqa: F401


def test_officer_asks_for_completion_and_hears_of_it(real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    url = f"/api/v1/cases/{c.id}/request-completion"
    problem(real.client.post(url, json={"message": "Komplettera"}, headers=auth(w.approver)), 403)
    problem(real.client.post(url, json={"message": "Komplettera"}, headers=auth(w.member)), 403)
    assert {e["field"] for e in problem(real.client.post(url, json={"message": "  "}, headers=auth(w.officer2)), 422)["errors"]} == {"message"}
    r = real.client.post(url, json={"message": "Bifoga budget för 2027"}, headers={**auth(w.officer2), "If-Match": '"0"'})
    problem(r, 409)  # a stale version
    r = real.client.post(url, json={"message": "Bifoga budget för 2027"}, headers=auth(w.officer2))
    assert r.status_code == 200 and r.json()["open_for_changes"] is True, r.text
    problem(real.client.post(url, json={"message": "Igen"}, headers=auth(w.officer)), 409)  # already open
    with real.factory() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "case.completion_requested")).one()
        assert event.actor_id == w.officer2.id and "Bifoga" not in str(event.after)  # the text as a digest only
    mails = real.deliver()
    to_member = [m for m in mails if str(m["To"]) == w.member.email and "Komplettering begärd" in str(m["Subject"])]
    assert len(to_member) == 1 and "Bifoga budget för 2027" in body(to_member[0]) and w.officer2.full_name in body(to_member[0])
    with real.factory() as s:
        card = s.scalars(select(Notification).where(Notification.user_id == w.member.id, Notification.kind == "completion_requested")).one()
    assert "Bifoga budget för 2027" in card.body and c.diarienummer in card.title

    # The organisation edits and sends in: the officer who asked and the case's officer are told.
    version = real.client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member)).json()["version"]
    r = real.client.patch(f"/api/v1/cases/{c.id}", json={"planned_activities": "Budget bifogad"},
                          headers={**auth(w.member), "If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    assert real.client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member)).status_code == 200
    real.deliver()
    with real.factory() as s:
        told = {n.user_id for n in s.scalars(select(Notification).where(Notification.case_id == c.id, Notification.kind == "changes_submitted"))}
    assert told == {w.officer.id, w.officer2.id}
    history = real.client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(w.member)).json()
    asked = [i for i in history if i["action"] == "case.completion_requested"]
    assert len(asked) == 1 and asked[0]["actor_id"] == w.officer2.id and asked[0]["title"] == "Komplettering begärd av handläggaren"
    assert any(i["action"] == "case.changes_submitted" and i["actor_id"] == w.member.id for i in history)


def test_not_while_under_review_nor_in_follow_up(real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
        later = case(s, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id)
    assert real.client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).status_code == 201
    assert "granskas" in problem(real.client.post(f"/api/v1/cases/{c.id}/request-completion", json={"message": "X"},
                                                  headers=auth(w.officer2)), 409)["detail"]
    problem(real.client.post(f"/api/v1/cases/{later.id}/request-completion", json={"message": "X"}, headers=auth(w.officer)), 409)
