"""Login, tokens, key rotation, role checks."""

from __future__ import annotations

from datetime import timedelta

import jwt
from factories import PASSWORD, World, auth
from helpers import problem

from service.auth.security import ALGORITHM, create_token, key_id
from service.config import Settings
from service.db import utcnow


def test_login_success_and_failure(client, db) -> None:
    w = World(db)
    r = client.post("/api/v1/auth/token", data={"username": w.officer.email.upper(), "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    assert me["id"] == w.officer.id and me["role"] == "officer"
    problem(client.post("/api/v1/auth/token", data={"username": w.officer.email, "password": "fel"}), 401)
    problem(client.post("/api/v1/auth/token", data={"username": "ingen@example.se", "password": PASSWORD}), 401)
    w.officer.is_active = False
    db.flush()
    problem(client.post("/api/v1/auth/token", data={"username": w.officer.email, "password": PASSWORD}), 401)


def test_missing_expired_and_forged_tokens(client, db) -> None:
    w = World(db)
    problem(client.get("/api/v1/auth/me"), 401)
    s = Settings()
    expired = jwt.encode({"sub": str(w.member.id), "exp": utcnow() - timedelta(minutes=1)}, s.secret_key, algorithm=ALGORITHM,
                         headers={"kid": key_id(s.secret_key)})
    assert "gått ut" in problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"}), 401)["detail"]
    forged = jwt.encode({"sub": str(w.member.id), "exp": utcnow() + timedelta(minutes=5)}, "x" * 40, algorithm=ALGORITHM,
                        headers={"kid": key_id(s.secret_key)})
    problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}), 401)


def test_signing_key_rotation(client, db, app) -> None:
    from service.deps import app_settings

    w = World(db)
    old = Settings(secret_key="o" * 40)
    token, _ = create_token(w.member.id, w.member.role, old)
    app.dependency_overrides[app_settings] = lambda: Settings(secret_key="n" * 40, previous_secret_keys=["o" * 40])
    try:
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        app.dependency_overrides[app_settings] = lambda: Settings(secret_key="n" * 40)
        problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)
    finally:
        app.dependency_overrides.pop(app_settings, None)


def test_default_secret_refused_in_production(monkeypatch) -> None:
    import pytest
    from pydantic import ValidationError

    monkeypatch.setenv("IOP_ENV", "production")
    with pytest.raises(ValidationError, match="IOP_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("IOP_SECRET_KEY", "a-real-secret-that-is-long-enough-123456")
    assert Settings().env == "production"


def test_admin_creates_users_others_cannot(client, db) -> None:
    w = World(db)
    body = {"email": "ny.handlaggare@example.se", "full_name": "Ny Handläggare", "role": "officer", "password": "lösen-123456", "department_id": w.dep.id}
    problem(client.post("/api/v1/users", json=body, headers=auth(w.registrar)), 403)
    r = client.post("/api/v1/users", json=body, headers=auth(w.admin))
    assert r.status_code == 201
    problem(client.post("/api/v1/users", json=body, headers=auth(w.admin)), 409)
    problem(client.post("/api/v1/users", json={**body, "email": "b@example.se", "department_id": None}, headers=auth(w.admin)), 422)
    assert client.post("/api/v1/auth/token", data={"username": body["email"], "password": body["password"]}).status_code == 200
