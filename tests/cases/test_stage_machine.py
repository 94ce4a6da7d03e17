"""Every transition of the stage table, allowed and refused, through the API."""

from __future__ import annotations

import pytest
from factories import World, auth, case
from helpers import problem

from service.cases.stages import ALLOWED, Stage

# The SPEC's diagram, written out independently of service.cases.stages.
SPEC_EDGES = {
    ("draft", "identify_need"), ("identify_need", "dialogue"), ("dialogue", "agreement"),
    ("agreement", "follow_up"), ("follow_up", "closed"),
    *{(s, "withdrawn") for s in ("draft", "identify_need", "dialogue", "agreement", "follow_up")},
    *{(s, "rejected") for s in ("identify_need", "dialogue", "agreement", "follow_up")},
}
NON_TERMINAL = ["draft", "identify_need", "dialogue", "agreement", "follow_up"]


def test_table_is_the_spec_diagram() -> None:
    edges = {(a.value, b.value) for a, targets in ALLOWED.items() for b in targets}
    assert edges == SPEC_EDGES


@pytest.mark.parametrize("stage", [s.value for s in Stage])
def test_submit_only_from_draft(client, db, stage: str) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage(stage))
    r = client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member))
    if stage == "draft":
        assert r.status_code == 200, r.text
        assert r.json()["stage"] == "identify_need"
    else:
        body = problem(r, 409)
        assert body["current_stage"] == stage and body["requested_stage"] == "identify_need"


@pytest.mark.parametrize("stage", [s.value for s in Stage])
def test_withdraw_from_every_non_terminal_stage(client, db, stage: str) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage(stage))
    r = client.post(f"/api/v1/cases/{c.id}/withdraw", json={"reason": "Vi har inte kapacitet"}, headers=auth(w.member))
    if stage in NON_TERMINAL:
        assert r.status_code == 200, r.text
        assert r.json()["stage"] == "withdrawn"
        assert r.json()["close_reason"] == "Vi har inte kapacitet"
    else:
        body = problem(r, 409)
        assert body["current_stage"] == stage and body["requested_stage"] == "withdrawn"


@pytest.mark.parametrize("stage", ["draft", "closed", "rejected", "withdrawn"])
def test_review_refused_where_no_forward_edge(client, db, stage: str) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage(stage))
    # Drafts are invisible to civil servants, so the registrar-free path is the member's 404 vs officer's 404/409.
    r = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer))
    if stage == "draft":
        problem(r, 404)
    else:
        assert problem(r, 409)["current_stage"] == stage


def test_review_cannot_skip_a_stage(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=None)
    body = problem(client.post(f"/api/v1/cases/{c.id}/reviews", json={"to_stage": "agreement"}, headers=auth(w.officer)), 409)
    assert body["current_stage"] == "identify_need" and body["requested_stage"] == "agreement"


@pytest.mark.parametrize("stage", [s.value for s in Stage])
def test_terminate_only_from_follow_up(client, db, stage: str) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage(stage))
    r = client.post(f"/api/v1/cases/{c.id}/terminate", json={"reason": "Verksamheten har upphört"}, headers=auth(w.approver))
    if stage == "follow_up":
        assert r.status_code == 200, r.text
        assert r.json()["stage"] == "closed" and r.json()["terminated"] is True
    elif stage == "draft":
        problem(r, 404)  # drafts are not visible to civil servants
    else:
        assert problem(r, 409)["current_stage"] == stage


def test_terminate_needs_approver_and_reason(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP)
    problem(client.post(f"/api/v1/cases/{c.id}/terminate", json={"reason": "x y z"}, headers=auth(w.officer)), 403)
    problem(client.post(f"/api/v1/cases/{c.id}/terminate", json={"reason": ""}, headers=auth(w.approver)), 422)


FORWARD = [("identify_need", "dialogue"), ("dialogue", "agreement"), ("agreement", "follow_up"), ("follow_up", "closed")]


@pytest.mark.parametrize(("stage", "target"), FORWARD)
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_review_approve_and_reject_from_every_reviewable_stage(client, db, stage: str, target: str, decision: str) -> None:
    from gates_setup import satisfy_gate

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage(stage), officer_id=w.officer.id)
    satisfy_gate(db, c, w)
    r = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer))
    assert r.status_code == 201, r.text
    assert r.json()["to_stage"] == target
    rid = r.json()["id"]
    r = client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": decision, "motivation": "Bedömt enligt riktlinjerna."},
                    headers=auth(w.approver))
    assert r.status_code == 200, r.text
    got = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.member)).json()
    assert got["stage"] == (target if decision == "approve" else "rejected")
    history = client.get(f"/api/v1/cases/{c.id}/stages", headers=auth(w.member)).json()
    assert history[-1]["from_stage"] == stage and history[-1]["review_id"] == rid
