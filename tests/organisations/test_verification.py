"""A self-registered organisation stays unverified, and its cases cannot be submitted, until an officer, registrar or
admin confirms it (audited, members e-mailed); organisations registered by staff count as verified. Organisation edits
take If-Match like cases (409 on a stale version)."""

from __future__ import annotations

from factories import World, auth, case, make_orgnr, organisation, user
from helpers import problem
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.auth.models import Role
from service.cases.stages import Stage
from service.outbox.models import OutboxEvent


def _unverified(db, w: World):  # noqa: ANN001, ANN202
    org = organisation(db, verified_at=None)
    member = user(db, Role.ORG_MEMBER, organisation=org)
    return org, member, case(db, org, w.dep, stage=Stage.DRAFT)


def test_an_unverified_organisation_cannot_submit_until_an_officer_verifies_it(client, db) -> None:
    w = World(db)
    org, member, c = _unverified(db, w)
    body = problem(client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(member)), 409)
    assert "inte bekräftad" in body["detail"] and "not been verified" in body["detail"]
    db.refresh(c)
    assert c.stage == Stage.DRAFT and c.diarienummer is None  # nothing half-written
    assert client.get(f"/api/v1/organisations/{org.id}", headers=auth(member)).json()["verified_at"] is None
    # Neither the organisation itself nor an approver or another organisation may confirm it.
    problem(client.post(f"/api/v1/organisations/{org.id}/verify", headers=auth(member)), 403)
    problem(client.post(f"/api/v1/organisations/{org.id}/verify", headers=auth(w.approver)), 403)
    problem(client.post(f"/api/v1/organisations/{org.id}/verify", headers=auth(w.other_member)), 404)
    r = client.post(f"/api/v1/organisations/{org.id}/verify", headers=auth(w.officer))
    assert r.status_code == 200 and r.json()["verified_at"] is not None
    db.refresh(org)
    assert org.verified_by_id == w.officer.id
    events = db.scalars(select(AuditEvent).where(AuditEvent.stream == f"organisation:{org.id}", AuditEvent.action == "organisation.verified")).all()
    assert len(events) == 1 and events[0].actor_id == w.officer.id
    told = [e.payload for e in db.scalars(select(OutboxEvent).where(OutboxEvent.topic == "email.send"))
            if e.payload["template"] == "organisation_verified"]
    assert [p["context"]["to"] for p in told] == [member.email]
    # Verifying again changes nothing.
    assert client.post(f"/api/v1/organisations/{org.id}/verify", headers=auth(w.registrar)).status_code == 200
    db.refresh(org)
    assert org.verified_by_id == w.officer.id
    r = client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(member))
    assert r.status_code == 200 and r.json()["stage"] == "identify_need", r.text


def test_staff_registered_organisations_are_verified_and_member_registered_ones_are_not(client, db) -> None:
    w = World(db)
    base = {"name": "Stödföreningen Hopp", "legal_form": "ideell_forening"}
    by_registrar = client.post("/api/v1/organisations", json={**base, "orgnr": make_orgnr()}, headers=auth(w.registrar)).json()
    assert by_registrar["verified_at"] is not None
    newbie = user(db, Role.ORG_MEMBER)
    by_member = client.post("/api/v1/organisations", json={**base, "orgnr": make_orgnr()}, headers=auth(newbie)).json()
    assert by_member["verified_at"] is None


def test_a_member_changing_the_orgnr_needs_verifying_again(client, db) -> None:
    w = World(db)
    r = client.patch(f"/api/v1/organisations/{w.org.id}", json={"city": "Norrby"}, headers=auth(w.member))
    assert r.status_code == 200 and r.json()["verified_at"] is not None  # other edits keep the verification
    r = client.patch(f"/api/v1/organisations/{w.org.id}", json={"orgnr": make_orgnr()}, headers=auth(w.member))
    assert r.status_code == 200 and r.json()["verified_at"] is None
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    problem(client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member)), 409)
    # A registrar's correction of the number keeps it verified.
    client.post(f"/api/v1/organisations/{w.org.id}/verify", headers=auth(w.officer))
    r = client.patch(f"/api/v1/organisations/{w.org.id}", json={"orgnr": make_orgnr()}, headers=auth(w.registrar))
    assert r.status_code == 200 and r.json()["verified_at"] is not None


def test_organisation_edits_take_if_match(client, db) -> None:
    w = World(db)
    url = f"/api/v1/organisations/{w.org.id}"
    got = client.get(url, headers=auth(w.member))
    etag = got.headers["etag"]
    assert etag == f'"{got.json()["version"]}"'
    r = client.patch(url, json={"city": "Norrby"}, headers={**auth(w.member), "If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] == f'"{r.json()["version"]}"' != etag
    # Someone else's edit based on the version before is refused and changes nothing.
    body = problem(client.patch(url, json={"city": "Söderby"}, headers={**auth(w.registrar), "If-Match": etag}), 409)
    assert body["type"].endswith("/stale-version")
    assert client.get(url, headers=auth(w.member)).json()["city"] == "Norrby"
    problem(client.patch(url, json={"city": "Söderby"}, headers={**auth(w.registrar), "If-Match": "inte-en-version"}), 422)
    # Without If-Match the edit still goes through (clients from before keep working).
    assert client.patch(url, json={"city": "Söderby"}, headers=auth(w.registrar)).json()["city"] == "Söderby"


def test_officers_confirm_organisations_on_the_web(app, client, db) -> None:
    import re

    from factories import PASSWORD
    from fastapi.testclient import TestClient

    w = World(db)
    org, member, _ = _unverified(db, w)
    with TestClient(app, base_url="https://testserver") as web:
        page = web.get("/logga-in")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert web.post("/logga-in", data={"email": w.officer.email, "password": PASSWORD, "csrf_token": csrf}, follow_redirects=False).status_code == 303
        listing = web.get("/organisationer/att-bekrafta")
        assert listing.status_code == 200 and org.name in listing.text and org.orgnr in listing.text and member.email in listing.text
        assert w.org.orgnr not in listing.text  # already verified
        assert 'href="/organisationer/att-bekrafta"' in web.get("/arbetsko").text  # in the officer's menu
        done = web.post(f"/organisationer/{org.id}/bekrafta", data={"csrf_token": csrf})
        assert done.status_code == 200 and "är bekräftad" in done.text
    db.refresh(org)
    assert org.verified_at is not None and org.verified_by_id == w.officer.id
