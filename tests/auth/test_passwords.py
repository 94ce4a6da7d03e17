"""The password rule (zxcvbn with the account's own data) wherever a password is set: admin creates a user,
self-registration, change, reset; a refusal is a 422 naming the field."""

from __future__ import annotations

import pytest
from factories import PASSWORD, World, auth, make_orgnr
from helpers import error_fields, problem
from sqlalchemy import func, select

from service.auth.models import User
from service.auth.passwords import check_password
from service.errors import ValidationFailed

STRONG = "Blåbärsris-i-Kulturhusets-Källare-7"


def _weak_for(email: str, full_name: str, org_name: str | None = None) -> list[str]:
    """Long enough for the schemas (≥ 10 characters) and still guessable."""
    own = [email, email.upper(), f"{email.split('@')[0]}2026!", full_name, *([org_name] if org_name else [])]
    return ["aaaaaaaaaa", "1111111111", "password123", "Sommar2026!", *own]


def _message(body: dict, field: str) -> str:
    return next(e["message"] for e in body["errors"] if e["field"] == field)


@pytest.mark.parametrize("role", ["admin", "officer", "org_member"])
def test_admin_cannot_give_any_account_a_weak_password(client, db, role) -> None:
    w = World(db)
    email, name = f"ny.{role}@exempelstad.se", "Signe Sandberg"
    extra = {"organisation_id": w.org.id} if role == "org_member" else {"department_id": w.dep.id} if role == "officer" else {}
    before = db.scalar(select(func.count()).select_from(User))
    for weak in _weak_for(email, name, w.org.name if role == "org_member" else None):
        body = problem(client.post("/api/v1/users", json={"email": email, "full_name": name, "role": role, "password": weak, **extra},
                                   headers=auth(w.admin)), 422)
        assert error_fields(body) == {"password"}, weak
        message = _message(body, "password")
        assert "Lösenordet är för svagt" in message and "too weak" in message, message
    assert db.scalar(select(func.count()).select_from(User)) == before
    ok = client.post("/api/v1/users", json={"email": email, "full_name": name, "role": role, "password": STRONG, **extra}, headers=auth(w.admin))
    assert ok.status_code == 201, ok.text


def test_organisation_name_counts_as_the_accounts_own_data(client, db) -> None:
    w = World(db)
    body = problem(client.post("/api/v1/users", json={"email": "kassor@forening.example.se", "full_name": "Kassör Karlsson", "role": "org_member",
                                                      "organisation_id": w.org.id, "password": f"{w.org.name}!"}, headers=auth(w.admin)), 422)
    assert "organisation" in _message(body, "password")


def test_self_registration_refuses_weak_passwords(client, db) -> None:
    org = {"name": "Läsfrämjarna i Norrby", "orgnr": make_orgnr(), "legal_form": "ideell_forening"}
    email = "lena.larsson@lasframjarna.example.se"
    for weak in _weak_for(email, "Lena Larsson", org["name"]):
        body = problem(client.post("/api/v1/auth/register", json={"email": email, "password": weak, "full_name": "Lena Larsson",
                                                                  "organisation": org}), 422)
        assert error_fields(body) == {"password"}, weak
    assert db.scalar(select(func.count()).select_from(User).where(User.email == email)) == 0


def test_change_and_reset_use_the_same_rule(client, db) -> None:
    w = World(db)
    body = problem(client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": w.member.email},
                               headers=auth(w.member)), 422)
    assert error_fields(body) == {"new_password"}
    body = problem(client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "1111111111"},
                               headers=auth(w.member)), 422)
    assert error_fields(body) == {"new_password"}
    # Nothing changed: the old password still logs in.
    assert client.post("/api/v1/auth/token", data={"username": w.member.email, "password": PASSWORD}).status_code == 200


def test_the_rule_itself() -> None:
    for weak, kw in [("aaaaaaaaaa", {}), ("1111111111", {}), ("qwertyuiop", {}), ("sommar2026", {}),
                     ("greta.gustafsson@kommun.se", {"email": "greta.gustafsson@kommun.se"}),
                     ("GretaGustafsson1", {"full_name": "Greta Gustafsson"}),
                     ("Ängsbackens IF 2026", {"organisation_name": "Ängsbackens IF"})]:
        with pytest.raises(ValidationFailed) as exc:
            check_password(weak, field="new_password", **kw)
        assert exc.value.errors[0]["field"] == "new_password", weak
    for strong in (STRONG, PASSWORD, "korrekt häst batteri häftklammer", "x" * 40 + "Q7!" + "tjäder" * 10):
        check_password(strong, email="greta.gustafsson@kommun.se", full_name="Greta Gustafsson")
