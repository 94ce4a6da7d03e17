"""Token hardening beyond tests/auth/test_auth.py: no 'none' algorithm, required claims, lifetime honoured."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from factories import World, auth
from helpers import problem

from service.auth.security import ALGORITHM, create_token, decode_token, key_id
from service.config import Settings
from service.db import utcnow
from service.errors import Unauthorized


def test_unsigned_and_claimless_tokens_are_refused(client, db) -> None:
    w = World(db)
    s = Settings()
    unsigned = jwt.encode({"sub": str(w.admin.id), "exp": utcnow() + timedelta(minutes=5)}, key=None, algorithm="none",
                          headers={"kid": key_id(s.secret_key)})
    problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {unsigned}"}), 401)
    no_exp = jwt.encode({"sub": str(w.admin.id)}, s.secret_key, algorithm=ALGORITHM, headers={"kid": key_id(s.secret_key)})
    problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {no_exp}"}), 401)
    problem(client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not.a.jwt"}), 401)
    assert client.get("/api/v1/auth/me", headers=auth(w.admin)).status_code == 200


def test_token_lifetime_follows_settings() -> None:
    s = Settings(token_minutes=15)
    token, lifetime = create_token(7, "officer", s)
    claims = jwt.decode(token, s.secret_key, algorithms=[ALGORITHM])
    assert lifetime == 900 and claims["exp"] - claims["iat"] == 900
    assert decode_token(token, s).user_id == 7


def test_deactivated_account_token_stops_working(client, db) -> None:
    w = World(db)
    headers = auth(w.officer)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    w.officer.is_active = False
    db.flush()
    problem(client.get("/api/v1/auth/me", headers=headers), 401)


def test_a_verified_token_is_remembered_but_still_expires(monkeypatch) -> None:
    """The signature check is cached per token; the expiry is checked on every use all the same."""
    import service.auth.security as security

    s = Settings(token_minutes=1)
    token, _ = create_token(7, "officer", s)
    assert decode_token(token, s).user_id == 7
    assert security._verified_claims.cache_info().currsize >= 1
    real_time = security.time.time
    monkeypatch.setattr(security.time, "time", lambda: real_time() + 61)
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(token, s)


def test_a_retired_signing_key_is_refused_even_for_a_remembered_token() -> None:
    old, new = "o" * 40, "n" * 40
    token, _ = create_token(7, "officer", Settings(secret_key=old))
    assert decode_token(token, Settings(secret_key=new, previous_secret_keys=[old])).user_id == 7  # rotation: still accepted
    with pytest.raises(Unauthorized, match="signeringsnyckel"):
        decode_token(token, Settings(secret_key=new))  # the old key left the ring
