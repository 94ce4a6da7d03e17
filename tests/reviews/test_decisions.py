"""Review decisions: four-eyes, delegated limit, changes requested, motivation."""

from __future__ import annotations

from factories import World, auth, case
from helpers import problem

from service.cases.stages import Stage


def _pending(client, w, c, requester):  # noqa: ANN001, ANN202
    r = client.post(f"/api/v1/cases/{c.id}/reviews", json={"comment": "Klart för dialog"}, headers=auth(requester))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _decide(client, c, rid, user, decision="approve", motivation="Uppfyller kraven"):  # noqa: ANN001, ANN202
    return client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": decision, "motivation": motivation}, headers=auth(user))


def test_four_eyes_requester_cannot_decide(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    rid = _pending(client, w, c, w.approver)  # an approver may also prepare a case
    body = problem(_decide(client, c, rid, w.approver), 403)
    assert "Fyraögon" in body["detail"]
    assert client.get(f"/api/v1/cases/{c.id}", headers=auth(w.officer)).json()["stage"] == "identify_need"
    assert _decide(client, c, rid, w.approver2).status_code == 200
    assert client.get(f"/api/v1/cases/{c.id}", headers=auth(w.officer)).json()["stage"] == "dialogue"


def test_officer_cannot_decide(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    rid = _pending(client, w, c, w.officer)
    problem(_decide(client, c, rid, w.officer2), 403)


def test_delegated_limit(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id, requested_amount_sek=400_000)
    rid = _pending(client, w, c, w.officer)
    body = problem(_decide(client, c, rid, w.small_approver), 403)
    assert body["amount_sek"] == 400_000 and body["delegated_limit_sek"] == 100_000
    assert _decide(client, c, rid, w.approver).status_code == 200


def test_limit_applies_to_agreement_funding(client, db) -> None:
    from gates_setup import satisfy_gate

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id, requested_amount_sek=2_000_000)
    satisfy_gate(db, c, w)
    rid = _pending(client, w, c, w.officer)
    problem(_decide(client, c, rid, w.approver), 403)  # 1 MSEK delegation < 2 MSEK funding
    assert _decide(client, c, rid, w.approver2).status_code == 200


def test_assigned_approver_only(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    r = client.post(f"/api/v1/cases/{c.id}/reviews", json={"approver_id": w.approver2.id}, headers=auth(w.officer))
    rid = r.json()["id"]
    problem(_decide(client, c, rid, w.approver), 403)
    assert _decide(client, c, rid, w.approver2).status_code == 200


def test_reject_needs_motivation_and_rejects(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    rid = _pending(client, w, c, w.officer)
    assert {e["field"] for e in problem(_decide(client, c, rid, w.approver, "reject", "  "), 422)["errors"]} == {"motivation"}
    assert _decide(client, c, rid, w.approver, "reject", "Verksamheten är en tjänst som ska upphandlas.").status_code == 200
    got = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member)).json()
    assert got["stage"] == "rejected" and got["close_reason"].startswith("Verksamheten")
    problem(_decide(client, c, rid, w.approver2), 409)  # already decided


def test_changes_requested_reopens_for_the_organisation(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    rid = _pending(client, w, c, w.officer)
    # While a review is pending the case content is locked.
    etag = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.officer)).headers["etag"]
    problem(client.patch(f"/api/v1/cases/{c.id}", json={"need": "x"}, headers={**auth(w.officer), "If-Match": etag}), 409)
    assert _decide(client, c, rid, w.approver, "changes_requested", "Beskriv målgruppen tydligare").status_code == 200
    got = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member))
    assert got.json()["stage"] == "identify_need" and got.json()["open_for_changes"] is True
    # The officer cannot push it forward until the organisation has resubmitted.
    problem(client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)), 409)
    r = client.patch(f"/api/v1/cases/{c.id}", json={"target_group": "Äldre över 70 i Norrby och Söderby"},
                     headers={**auth(w.member), "If-Match": got.headers["etag"]})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member))
    assert r.status_code == 200 and r.json()["open_for_changes"] is False and r.json()["stage"] == "identify_need"
    problem(client.patch(f"/api/v1/cases/{c.id}", json={"need": "y"}, headers={**auth(w.member), "If-Match": r.headers["etag"]}), 409)
    assert client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).status_code == 201


def test_one_pending_review_per_case(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    rid = _pending(client, w, c, w.officer)
    problem(client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer2)), 409)
    r = client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/cancel", headers=auth(w.officer))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer2)).status_code == 201


def test_review_due_in_ten_working_days(client, db) -> None:
    from datetime import datetime

    from service.deadlines.calendar import calendar_for

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    r = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).json()
    cal = calendar_for("Europe/Stockholm")
    requested = datetime.fromisoformat(r["requested_at"])
    due = datetime.fromisoformat(r["due_at"])
    assert cal.working_days_between(cal.local_date(requested), cal.local_date(due)) == 10


def test_withdraw_cancels_pending_review(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    rid = _pending(client, w, c, w.officer)
    assert client.post(f"/api/v1/cases/{c.id}/withdraw", json={}, headers=auth(w.member)).status_code == 200
    reviews = client.get(f"/api/v1/cases/{c.id}/reviews", headers=auth(w.officer)).json()
    assert [(x["id"], x["status"]) for x in reviews] == [(rid, "cancelled")]
    problem(_decide(client, c, rid, w.approver), 409)


def test_approver_queue(client, db) -> None:
    w = World(db)
    c1 = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    c2 = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    _pending(client, w, c1, w.officer)
    client.post(f"/api/v1/cases/{c2.id}/reviews", json={"approver_id": w.approver2.id}, headers=auth(w.officer))
    mine = {r["case_id"] for r in client.get("/api/v1/reviews/pending", headers=auth(w.approver)).json()}
    assert mine == {c1.id}
    assert {r["case_id"] for r in client.get("/api/v1/reviews/pending", headers=auth(w.approver2)).json()} == {c1.id, c2.id}
