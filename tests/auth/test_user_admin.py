"""Admin changes and deactivates accounts: a deactivated token stops working at once; no self-lockout."""

from __future__ import annotations

from factories import PASSWORD, World, auth
from helpers import problem

from service.audit.models import AuditEvent


def test_admin_deactivates_an_officer_who_left(client, db) -> None:
    w = World(db)
    token = auth(w.officer)
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200
    problem(client.patch(f"/api/v1/users/{w.officer.id}", json={"is_active": False}, headers=auth(w.approver)), 403)
    r = client.patch(f"/api/v1/users/{w.officer.id}", json={"is_active": False}, headers=auth(w.admin))
    assert r.status_code == 200 and r.json()["is_active"] is False
    problem(client.get("/api/v1/auth/me", headers=token), 401)  # the token issued before is refused on its next request
    problem(client.post("/api/v1/auth/token", data={"username": w.officer.email, "password": PASSWORD}), 401)
    assert client.patch(f"/api/v1/users/{w.officer.id}", json={"is_active": True}, headers=auth(w.admin)).status_code == 200
    # Reactivated, the account starts afresh: the token from before the deactivation stays refused, also on the read path.
    body = problem(client.get("/api/v1/auth/me", headers=token), 401)
    assert "återkallats" in body["detail"] or "gäller inte längre" in body["detail"]
    problem(client.get("/api/v1/cases", headers=token), 401)
    fresh = client.post("/api/v1/auth/token", data={"username": w.officer.email, "password": PASSWORD})
    assert fresh.status_code == 200
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}).status_code == 200


def test_role_and_delegation_change_is_audited_without_names(client, db) -> None:
    w = World(db)
    body = {"role": "approver", "delegated_limit_sek": 2_000_000, "title": "Enhetschef Karin"}
    r = client.patch(f"/api/v1/users/{w.officer2.id}", json=body, headers=auth(w.admin))
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "approver" and r.json()["delegated_limit_sek"] == 2_000_000
    event = db.query(AuditEvent).filter_by(action="user.updated", stream=f"user:{w.officer2.id}").one()
    assert event.before["role"] == "officer" and event.after["role"] == "approver"
    assert event.after["changed"] == ["delegated_limit_sek", "role", "title"] and "Karin" not in str(event.after)


def test_refused_changes(client, db) -> None:
    w = World(db)
    admin = auth(w.admin)
    assert problem(client.patch(f"/api/v1/users/{w.admin.id}", json={"is_active": False}, headers=admin), 409)
    problem(client.patch(f"/api/v1/users/{w.admin.id}", json={"role": "registrar"}, headers=admin), 409)
    err = problem(client.patch(f"/api/v1/users/{w.member.id}", json={"role": "officer", "department_id": w.dep.id}, headers=admin), 422)
    assert err["errors"][0]["field"] == "role"
    err = problem(client.patch(f"/api/v1/users/{w.registrar.id}", json={"role": "officer"}, headers=admin), 422)
    assert err["errors"][0]["field"] == "department_id"
    problem(client.patch(f"/api/v1/users/{w.officer.id}", json={"department_id": 999_999}, headers=admin), 422)
    problem(client.patch(f"/api/v1/users/{w.officer.id}", json={"manager_id": w.officer.id}, headers=admin), 422)
    problem(client.patch(f"/api/v1/users/{w.officer.id}", json={"email": "ny@example.se"}, headers=admin), 422)
    problem(client.patch("/api/v1/users/999999", json={"title": "x"}, headers=admin), 404)
    db.refresh(w.officer)
    assert w.officer.is_active and w.officer.department_id == w.dep.id and w.officer.manager_id is None
