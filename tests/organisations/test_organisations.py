"""Organisation registration: orgnr validation, uniqueness, visibility."""

from __future__ import annotations

from factories import World, auth, make_orgnr, user
from helpers import problem

from service.auth.models import Role

BASE = {"name": "Stödföreningen Hopp", "legal_form": "ideell_forening", "purpose": "Stöd till unga", "city": "Exempelstad",
        "contacts": [{"name": "Karin Kontakt", "email": "karin@hopp.se", "role": "Ordförande"}]}


def test_member_registers_own_organisation(client, db) -> None:
    w = World(db)
    newbie = user(db, Role.ORG_MEMBER)
    orgnr = make_orgnr()
    r = client.post("/api/v1/organisations", json={**BASE, "orgnr": orgnr.replace("-", "")}, headers=auth(newbie))
    assert r.status_code == 201, r.text
    assert r.json()["orgnr"] == orgnr  # normalised to NNNNNN-NNNN
    assert client.get("/api/v1/auth/me", headers=auth(newbie)).json()["organisation_id"] == r.json()["id"]
    assert problem(client.post("/api/v1/organisations", json={**BASE, "orgnr": orgnr}, headers=auth(w.registrar)), 409)
    problem(client.get(f"/api/v1/organisations/{w.org.id}", headers=auth(newbie)), 404)
    assert client.get(f"/api/v1/organisations/{r.json()['id']}", headers=auth(w.officer)).status_code == 200


def test_invalid_orgnr_is_422(client, db) -> None:
    w = World(db)
    good = make_orgnr()
    bad_luhn = good[:-1] + str((int(good[-1]) + 1) % 10)
    personnummer_like = "811218-9876"  # valid Luhn but digits 3–4 < 20: a person, not an organisation
    for value in (bad_luhn, personnummer_like, "12345", "abcdef-ghij"):
        body = problem(client.post("/api/v1/organisations", json={**BASE, "orgnr": value}, headers=auth(w.registrar)), 422)
        assert any(e["field"] == "orgnr" for e in body["errors"]), value


def test_registrar_corrects_member_cannot_touch_other(client, db) -> None:
    w = World(db)
    r = client.patch(f"/api/v1/organisations/{w.org.id}", json={"city": "Norrby"}, headers=auth(w.registrar))
    assert r.status_code == 200 and r.json()["city"] == "Norrby"
    problem(client.patch(f"/api/v1/organisations/{w.org.id}", json={"city": "X"}, headers=auth(w.other_member)), 404)
    problem(client.patch(f"/api/v1/organisations/{w.org.id}", json={"orgnr": w.other_org.orgnr}, headers=auth(w.member)), 409)
