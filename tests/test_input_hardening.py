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


@pytest.mark.parametrize("huge", [2**31, 99999999999999999999])
def test_web_pages_refuse_ids_beyond_the_column_range(app, client, db, huge) -> None:
    """Ids in page addresses and form fields are bounded like the API's `Id`: a 404 page or the form again, never a 500."""
    from fastapi.testclient import TestClient

    from service.auth.security import create_token
    from service.config import get_settings
    from service.web.session import CSRF_COOKIE, SESSION_COOKIE, _sign

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    draft = case(db, w.org, w.dep, stage=Stage.DRAFT)
    db.commit()
    settings = get_settings()
    raw_csrf = "k" * 32
    csrf = _sign(raw_csrf, settings)

    def cookies(user) -> dict[str, str]:  # noqa: ANN001
        token, _ = create_token(user.id, user.role, settings)
        return {"Cookie": f"{SESSION_COOKIE}={token}; {CSRF_COOKIE}={raw_csrf}"}

    member, officer, approver = cookies(w.member), cookies(w.officer), cookies(w.approver)
    gets = [
        (member, f"/arenden/{huge}"), (officer, f"/arenden/{huge}"), (member, f"/arenden/{c.id}/dokument/{huge}"),
        (member, f"/arenden/{huge}/dokument/1"), (officer, f"/arenden/{huge}/dialog"), (officer, f"/arenden/{huge}/avtal"),
        (approver, f"/arenden/{huge}/beslut"), (member, f"/arenden/{huge}/redigera"), (officer, f"/oversikt?forvaltning={huge}"),
    ]
    posts = [
        (member, f"/arenden/{huge}/skicka-in", {}), (member, f"/arenden/{huge}/meddelanden", {"body": "Hej"}),
        (member, f"/arenden/{c.id}/uppfoljning/{huge}/lamna", {"activities_done": "Träffar", "participants_reached": "3"}),
        (officer, f"/arenden/{c.id}/uppfoljning/{huge}/bedom", {"assessment": "approved"}),
        (officer, f"/arenden/{c.id}/granskning/{huge}/aterta", {}),
        (officer, f"/arenden/{c.id}/tilldela", {"officer_id": str(huge)}),
        (officer, f"/arenden/{c.id}/begar-beslut", {"approver_id": str(huge)}),
        (approver, f"/arenden/{c.id}/beslut", {"decision": "approve", "review_id": str(huge)}),
        (officer, f"/arenden/{c.id}/avtal", {f"instalments-{huge}-amount_sek": "1", f"contributions-{huge}-party": "public"}),
        (member, "/forslag/nytt", {"title": "Förslag", "department_id": str(huge)}),
        (member, f"/arenden/{draft.id}/skicka-in", {"version": "²"}),
        (member, f"/arenden/{draft.id}/redigera", {"title": "Förslag", "version": "¹"}),
        (officer, f"/arenden/{c.id}/tilldela", {"officer_id": "³"}),
    ]
    # The pages' cookies are Secure (__Host-): the browser talks https.
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as web:
        for who, path in gets:
            r = web.get(path, headers=who, follow_redirects=False)
            assert r.status_code == 404, (path, r.status_code, r.text[:300])
            assert r.headers["content-type"].startswith("text/html")
        for who, path, data in posts:
            r = web.post(path, data={**data, "csrf_token": csrf}, headers=who, follow_redirects=False)
            assert r.status_code < 500, (path, r.status_code, r.text[:300])
            if f"/{huge}" in path:
                assert r.status_code == 404, (path, r.status_code)


def test_validation_errors_name_the_input(client, db) -> None:
    """422 problem+json lists each field as a form maps it: nested body fields dotted with list positions, parameters
    outside the body with their location, the body as a whole as "body" (a field called "body" keeps its name)."""
    from gates_setup import terms_payload

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    officer, member = auth(w.officer), auth(w.member)
    terms = terms_payload(w.org.name, w.org.orgnr)
    terms["instalments"].append({"due_on": "2028-01-15", "amount_sek": -5})
    terms["organisation_party"]["signatory_name"] = ""
    body = problem(client.put(f"/api/v1/cases/{c.id}/agreement", json=terms, headers=officer), 422)
    assert {"instalments.2.amount_sek", "organisation_party.signatory_name"} <= error_fields(body)
    assert "instalments.2.amount_sek" in body["detail"]
    # A body field that is itself called "body" (the message text) is named, not dropped.
    assert error_fields(problem(client.post(f"/api/v1/cases/{c.id}/messages", json={"body": 5}, headers=member), 422)) == {"body"}
    # Query and path parameters carry their location.
    assert error_fields(problem(client.get(f"/api/v1/cases/{c.id}/messages", params={"limit": 0}, headers=member), 422)) == {"query.limit"}
    assert error_fields(problem(client.get("/api/v1/cases/0", headers=member), 422)) == {"path.case_id"}
    # The body as a whole: missing, not an object, not JSON (pydantic's character position goes into the message).
    for kwargs in ({}, {"json": [1, 2]}, {"content": b'{"body": ', "headers": {"Content-Type": "application/json"}}):
        errors = problem(client.post(f"/api/v1/cases/{c.id}/meetings", headers={**officer, **kwargs.pop("headers", {})}, **kwargs), 422)["errors"]
        assert [e["field"] for e in errors] == ["body"], errors
    bad_json = problem(client.post(f"/api/v1/cases/{c.id}/meetings", content=b'{"held_on": ', headers={**officer, "Content-Type": "application/json"}), 422)
    assert bad_json["errors"][0]["type"] == "json_invalid" and "position" in bad_json["errors"][0]["message"]
    # Objects inside lists: the position names the row.
    nested = {"held_on": "2026-10-01", "participants": [{"name": "Anna"}, {"name": ""}]}
    assert error_fields(problem(client.post(f"/api/v1/cases/{c.id}/meetings", json=nested, headers=officer), 422)) == {"participants.1.name"}


def test_the_last_500s_are_4xx(client, db) -> None:
    """Issue 20: NUL in a suspend or extend reason, de minimis for the year 1, a deadline pushed past 9999: each was a 500."""
    from datetime import UTC, datetime

    from service.config import get_settings
    from service.deadlines import rules as deadline_rules
    from service.deadlines.models import Deadline, DeadlineKind

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    officer = auth(w.officer)
    d = deadline_rules.create(db, c, DeadlineKind.DIALOGUE, get_settings())
    db.flush()
    assert error_fields(problem(client.post(f"/api/v1/cases/{c.id}/suspend", json={"reason": "Väntar\x00"}, headers=officer), 422)) == {"reason"}
    extend = f"/api/v1/cases/{c.id}/deadlines/{d.id}/extend"
    assert error_fields(problem(client.post(extend, json={"working_days": 5, "reason": "Sjuk\x00"}, headers=officer), 422)) == {"reason"}
    assert error_fields(problem(client.post(extend, json={"due_on": "9999-12-31", "reason": "Långt fram"}, headers=officer), 422)) == {"due_on"}
    # A deadline already at the end of the calendar (stored before the bound existed) cannot move further.
    db.execute(Deadline.__table__.update().where(Deadline.id == d.id).values(due_at=datetime(9999, 12, 31, 22, 0, tzinfo=UTC)))
    db.expire_all()
    assert error_fields(problem(client.post(extend, json={"working_days": 5, "reason": "Ännu längre"}, headers=officer), 422)) == {"working_days"}
    # De minimis: the year 1 is refused at the door, and a stored one computes instead of failing.
    draft = case(db, w.org, w.dep, stage=Stage.DRAFT)
    r = client.patch(f"/api/v1/cases/{draft.id}", json={"period_start": "0001-01-01"}, headers={**auth(w.member), "If-Match": f'"{draft.version}"'})
    assert error_fields(problem(r, 422)) == {"period_start"}
    db.execute(c.__table__.update().where(c.__table__.c.id == c.id).values(period_start=datetime(1, 1, 1).date()))
    db.expire_all()
    assert client.get(f"/api/v1/cases/{c.id}/de-minimis", headers=officer).status_code == 200


def test_null_and_unknown_references_name_the_field(client, db) -> None:
    """`title: null` was a 409 "concurrent change or duplicate" from the database; it is a 422 naming the field."""
    w = World(db)
    draft = case(db, w.org, w.dep, stage=Stage.DRAFT)
    member = {**auth(w.member), "If-Match": f'"{draft.version}"'}
    for field in ("title", "need", "requested_amount_sek"):
        assert error_fields(problem(client.patch(f"/api/v1/cases/{draft.id}", json={field: None}, headers=member), 422)) == {field}
    problem(client.post("/api/v1/cases", json={"title": "Förslag", "department_id": 999_999}, headers=auth(w.member)), 422)
    member, admin = auth(w.member), auth(w.admin)
    assert error_fields(problem(client.patch(f"/api/v1/organisations/{w.org.id}", json={"name": None}, headers=member), 422)) == {"name"}
    assert error_fields(problem(client.patch(f"/api/v1/users/{w.officer2.id}", json={"full_name": None}, headers=admin), 422)) == {"full_name"}
    new = {"email": "ny.person@example.se", "full_name": "Ny Person", "password": "Blåbärsskog-i-augusti-91"}
    for extra, field in (({"role": "org_member", "organisation_id": 999_999}, "organisation_id"),
                         ({"role": "officer", "department_id": 999_999}, "department_id")):
        assert error_fields(problem(client.post("/api/v1/users", json={**new, **extra}, headers=admin), 422)) == {field}


def test_the_agreement_names_the_case_organisation(client, db) -> None:
    """Issue 19/20: another organisation's name and orgnr in the terms were accepted and printed."""
    from gates_setup import terms_payload
    from sqlalchemy import select

    from service.agreements.models import Agreement

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    other = db.get(type(w.org), w.other_org.id)
    body = problem(client.put(f"/api/v1/cases/{c.id}/agreement", json=terms_payload(other.name, other.orgnr), headers=auth(w.officer)), 422)
    assert error_fields(body) == {"organisation_party.orgnr", "organisation_party.name"}
    assert db.scalar(select(Agreement).where(Agreement.case_id == c.id)) is None
    terms = terms_payload(w.org.name.upper(), w.org.orgnr)
    terms["organisation_party"]["signatory_name"] = "Vem som helst"  # signatories are the organisation's choice
    assert client.put(f"/api/v1/cases/{c.id}/agreement", json=terms, headers=auth(w.officer)).status_code == 200
