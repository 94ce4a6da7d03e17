"""Inputs the fuzzing found to reach the database and fail there (500): each is now a 4xx on both backends."""

from __future__ import annotations

import base64
import json

import pytest
from factories import World, auth, case
from helpers import error_fields, problem

from service.cases.stages import Stage


def test_transition_guard_on_a_case_loaded_from_the_database(client, db) -> None:
    """Stage columns load as plain str: the 409 naming both stages must not fail on `.value` (it was a 500)."""
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    db.commit()
    db.expire_all()  # the request now reads the stage from the database, as every real request does
    body = problem(client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member)), 409)
    assert body["current_stage"] == "identify_need" and body["requested_stage"] == "identify_need"
    db.expire_all()
    body = problem(client.post(f"/api/v1/cases/{c.id}/terminate", json={"reason": "Verksamheten upphör"}, headers=auth(w.approver)), 409)
    assert body["current_stage"] == "identify_need" and body["requested_stage"] == "closed"


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_ids_beyond_the_column_range_are_refused(client, db, huge) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    officer, member = auth(w.officer), auth(w.member)
    assert error_fields(problem(client.get(f"/api/v1/cases/{huge}", headers=officer), 422)) == {"path.case_id"}
    problem(client.get(f"/api/v1/cases/{c.id}/reviews/{huge}/cancel", headers=officer), 405)
    problem(client.post(f"/api/v1/cases/{c.id}/reviews/{huge}/cancel", headers=officer), 422)
    problem(client.get("/api/v1/cases", params={"department_id": huge}, headers=officer), 422)
    problem(client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": huge}, headers=officer), 422)
    problem(client.post("/api/v1/cases", json={"title": "Förslag", "department_id": huge}, headers=member), 422)
    # Routes owned elsewhere: with the Id type a 422, without it get_visible_case's range check gives a 404.
    for path in (f"/api/v1/cases/{huge}/messages", f"/api/v1/cases/{huge}/timeline", f"/api/v1/organisations/{huge}"):
        r = client.get(path, headers=officer)
        problem(r, 422 if r.status_code == 422 else 404)


def test_control_characters_are_refused_before_the_database(client, db) -> None:
    """PostgreSQL cannot store NUL in text (a 500); SQLite would store it silently. Both now get a 422."""
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    member, officer = auth(w.member), auth(w.officer)
    assert "title" in error_fields(problem(
        client.post("/api/v1/cases", json={"title": "Läxhjälp\x00", "department_id": w.dep.id}, headers=member), 422))
    meeting = {"held_on": "2026-10-01", "participants": [{"name": "Anna"}], "notes": "Bra möte\x00"}
    assert "notes" in error_fields(problem(client.post(f"/api/v1/cases/{c.id}/meetings", json=meeting, headers=officer), 422))
    problem(client.get("/api/v1/cases", params={"q": "a\x00b"}, headers=officer), 422)
    # Tabs and line breaks are ordinary text.
    ok = {**meeting, "notes": "Rad ett\nRad två\tmed tabb"}
    assert client.post(f"/api/v1/cases/{c.id}/meetings", json=ok, headers=officer).status_code == 201


def test_crafted_cursors_are_refused(client, db) -> None:
    w = World(db)
    officer = auth(w.officer)

    def cursor(value, ident) -> str:  # noqa: ANN001
        return base64.urlsafe_b64encode(json.dumps([value, ident]).encode()).decode()

    for sort, crafted in (("requested_amount_sek", cursor(2**70, 1)), ("title", cursor("abc", 2**40)),
                          ("title", cursor("a\x00", 1)), ("-created_at", cursor("igår", 1))):
        problem(client.get("/api/v1/cases", params={"sort": sort, "cursor": crafted}, headers=officer), 422)
    assert client.get("/api/v1/cases", params={"sort": "title", "cursor": cursor("abc", 1)}, headers=officer).status_code == 200


def test_admin_inputs_are_bounded_like_their_columns(client, db) -> None:
    w = World(db)
    admin = auth(w.admin)
    user = {"email": "ny@example.se", "full_name": "Ny Person", "role": "registrar", "password": "lösen-123456"}
    assert "full_name" in error_fields(problem(client.post("/api/v1/users", json={**user, "full_name": "x" * 201}, headers=admin), 422))
    assert "title" in error_fields(problem(client.post("/api/v1/users", json={**user, "title": "x" * 121}, headers=admin), 422))
    problem(client.post("/api/v1/users", json={**user, "role": "approver", "department_id": w.dep.id,
                                               "delegated_limit_sek": 2**63}, headers=admin), 422)
    problem(client.post("/api/v1/users", json={**user, "password": "kort"}, headers=admin), 422)
    dep = {"name": "Kulturförvaltningen", "diarie_prefix": "KUF"}
    problem(client.post("/api/v1/departments", json={**dep, "municipality_orgnr": "inte ett orgnr"}, headers=admin), 422)
    r = client.post("/api/v1/departments", json={**dep, "municipality_orgnr": "2120000142"}, headers=admin)
    assert r.status_code == 201, r.text
