"""Self-registration (account + organisation in one transaction) and contact persons CRUD."""

from __future__ import annotations

import time

from factories import World, auth, make_orgnr
from helpers import error_fields, problem
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.auth.models import AccountToken, User
from service.organisations.models import Organisation
from service.outbox.models import OutboxEvent

ORG = {"name": "Läxhjälpen i Norrby", "legal_form": "ideell_forening", "purpose": "Läxhjälp för barn", "city": "Exempelstad",
       "contacts": [{"name": "Karin Kontaktsson", "email": "karin.k@laxhjalpen.example.se", "phone": "070-111 22 33", "role": "Ordförande"}]}


def _registration(email: str = "ny.medlem@laxhjalpen.example.se", orgnr: str | None = None, **extra) -> dict:
    return {"email": email, "password": "ett-långt-lösen", "full_name": "Nora Ny", "organisation": {**ORG, "orgnr": orgnr or make_orgnr()}, **extra}


def _member(db, email: str) -> User | None:  # noqa: ANN001
    return db.scalar(select(User).where(User.email == email))


def _mails(db, template: str) -> list[dict]:  # noqa: ANN001
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.topic == "email.send").order_by(OutboxEvent.id)).all()
    return [e.payload for e in events if e.payload["template"] == template]


def test_self_registration_creates_member_and_an_unverified_organisation(client, db) -> None:
    orgnr = make_orgnr()
    r = client.post("/api/v1/auth/register", json=_registration("Ny.Medlem@Laxhjalpen.example.se", orgnr.replace("-", "")))
    assert r.status_code == 202, r.text
    assert set(r.json()) == {"detail"} and "e-post" in r.json()["detail"]
    member = _member(db, "ny.medlem@laxhjalpen.example.se")
    assert member.role == "org_member" and member.password_hash.startswith("$argon2")
    org = db.get(Organisation, member.organisation_id)
    assert org.orgnr == orgnr and [c.name for c in org.contacts] == ["Karin Kontaktsson"]
    assert org.verified_at is None and org.verified_by_id is None  # until an officer confirms it
    # The account waits for its owner to follow the welcome e-mail's link (tests/auth/test_confirmation.py).
    assert member.email_confirmed_at is None
    tokens = db.scalars(select(AccountToken).where(AccountToken.user_id == member.id)).all()
    assert [t.purpose for t in tokens] == ["confirm_email"]
    problem(client.post("/api/v1/auth/token", data={"username": member.email, "password": "ett-långt-lösen"}), 401)


def test_known_email_answers_like_a_new_one_and_tells_its_owner(client, db) -> None:
    """Same status, same body, similar time: registration does not reveal which e-mails have accounts."""
    w = World(db)
    users_before = db.scalar(select(func.count()).select_from(User))
    orgs_before = db.scalar(select(func.count()).select_from(Organisation))
    hash_before = w.member.password_hash
    t0 = time.perf_counter()
    known = client.post("/api/v1/auth/register", json=_registration(w.member.email.upper()))
    t_known = time.perf_counter() - t0
    t0 = time.perf_counter()
    new = client.post("/api/v1/auth/register", json=_registration("helt.ny@laxhjalpen.example.se"))
    t_new = time.perf_counter() - t0
    assert (known.status_code, known.json()) == (new.status_code, new.json()) == (202, new.json())
    assert known.headers.get("content-type") == new.headers.get("content-type")
    # Both ways hash the password (argon2 dominates): the known e-mail does not answer measurably faster.
    assert t_known > 0.4 * t_new, (t_known, t_new)
    # The known e-mail created nothing and changed nothing; its owner was e-mailed instead.
    assert db.scalar(select(func.count()).select_from(User)) == users_before + 1
    assert db.scalar(select(func.count()).select_from(Organisation)) == orgs_before + 1
    db.refresh(w.member)
    assert w.member.password_hash == hash_before and w.member.organisation_id == w.org.id
    told = _mails(db, "account_exists")
    assert [m["context"]["to"] for m in told] == [w.member.email] and "/glomt-losenord" in told[0]["context"]["reset_url"]
    # The organisationsnummer is public: a taken one is a 409 whatever the e-mail.
    for email in (w.member.email, "ingen.alls@laxhjalpen.example.se"):
        body = problem(client.post("/api/v1/auth/register", json=_registration(email, orgnr=w.org.orgnr)), 409)
        assert body["field"] == "orgnr"


def test_registration_payload_validated(client, db) -> None:
    good = make_orgnr()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert "organisation.orgnr" in error_fields(problem(client.post("/api/v1/auth/register", json=_registration(orgnr=bad)), 422))
    assert "password" in error_fields(problem(client.post("/api/v1/auth/register", json={**_registration(), "password": "kort"}), 422))
    assert "email" in error_fields(problem(client.post("/api/v1/auth/register", json={**_registration(), "email": "inte-epost"}), 422))
    assert error_fields(problem(client.post("/api/v1/auth/register", json={**_registration(), "full_name": "Nora\x00"}), 422)) == {"full_name"}


def test_registration_audit_holds_no_contact_data(client, db) -> None:
    assert client.post("/api/v1/auth/register", json=_registration()).status_code == 202
    member = _member(db, "ny.medlem@laxhjalpen.example.se")
    org_id = member.organisation_id
    contact_id = db.get(Organisation, org_id).contacts[0].id
    events = db.scalars(select(AuditEvent).where(AuditEvent.stream == f"organisation:{org_id}")).all()
    registered = next(e for e in events if e.action == "organisation.registered")
    assert registered.after["contact_ids"] == [contact_id]
    dumped = str([(e.before, e.after) for e in events])
    for value in ("Karin Kontaktsson", "karin.k@laxhjalpen.example.se", "070-111 22 33"):
        assert value not in dumped
    user_event = db.scalars(select(AuditEvent).where(AuditEvent.stream == f"user:{member.id}")).one()
    assert "ny.medlem" not in str(user_event.after)


def test_contacts_crud_for_own_members_and_registrars(client, db) -> None:
    w = World(db)
    base = f"/api/v1/organisations/{w.org.id}/contacts"
    r = client.post(base, json={"name": "Pelle Kassör", "email": "pelle@example.se", "role": "Kassör"}, headers=auth(w.member))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = client.patch(f"{base}/{cid}", json={"phone": "08-123 456", "role": None}, headers=auth(w.member))
    assert r.status_code == 200 and r.json()["phone"] == "08-123 456" and r.json()["role"] is None and r.json()["name"] == "Pelle Kassör"
    assert client.patch(f"{base}/{cid}", json={"email": "p@example.se"}, headers=auth(w.registrar)).status_code == 200
    assert error_fields(problem(client.patch(f"{base}/{cid}", json={"name": None}, headers=auth(w.member)), 422)) == {"name"}
    problem(client.patch(f"{base}/{cid}", json={"email": "inte-epost"}, headers=auth(w.member)), 422)
    assert error_fields(problem(client.patch(f"{base}/{cid}", json={"role": "Kas\x00sör"}, headers=auth(w.member)), 422)) == {"role"}
    assert error_fields(problem(client.post(base, json={"name": "A\x00"}, headers=auth(w.member)), 422)) == {"name"}
    assert error_fields(problem(client.get("/api/v1/organisations", params={"q": "a\x00"}, headers=auth(w.officer)), 422)) == {"q"}
    # Civil servants read contacts but do not keep them; other organisations do not see them at all.
    assert [c["id"] for c in client.get(base, headers=auth(w.officer)).json()] == [cid]
    problem(client.patch(f"{base}/{cid}", json={"role": "x"}, headers=auth(w.officer)), 403)
    problem(client.post(base, json={"name": "X"}, headers=auth(w.officer)), 403)
    problem(client.get(base, headers=auth(w.other_member)), 404)
    problem(client.patch(f"{base}/{cid}", json={"role": "x"}, headers=auth(w.other_member)), 404)
    problem(client.patch(f"/api/v1/organisations/{w.other_org.id}/contacts/{cid}", json={"role": "x"}, headers=auth(w.registrar)), 404)
    # The update's audit names the fields, not their values.
    updated = db.scalars(select(AuditEvent).where(AuditEvent.action == "organisation.contact_updated",
                                                  AuditEvent.stream == f"organisation:{w.org.id}").order_by(AuditEvent.seq)).all()
    assert [e.after for e in updated] == [{"contact_id": cid, "fields": ["phone", "role"]}, {"contact_id": cid, "fields": ["email"]}]
    # Delete erases: the row stays as a pseudonym and leaves the default list.
    assert client.delete(f"{base}/{cid}", headers=auth(w.member)).status_code == 204
    assert client.get(base, headers=auth(w.member)).json() == []
    erased = client.get(base, params={"include_erased": "true"}, headers=auth(w.member)).json()
    assert erased[0]["name"] == f"Raderad kontakt #{cid}" and erased[0]["email"] is None and erased[0]["erased_at"]
    problem(client.patch(f"{base}/{cid}", json={"role": "x"}, headers=auth(w.member)), 409)
    problem(client.delete(f"{base}/{cid}", headers=auth(w.member)), 409)
    problem(client.delete(f"{base}/999999", headers=auth(w.member)), 404)
    assert client.get(f"/api/v1/organisations/{w.org.id}/audit/verify", headers=auth(w.registrar)).json()["valid"] is True


def test_organisation_audit_is_for_registrars(client, db) -> None:
    w = World(db)
    client.post(f"/api/v1/organisations/{w.org.id}/contacts", json={"name": "Anna"}, headers=auth(w.member))
    events = client.get(f"/api/v1/organisations/{w.org.id}/audit", headers=auth(w.registrar))
    assert events.status_code == 200 and [e["action"] for e in events.json()] == ["organisation.contact_added"]
    problem(client.get(f"/api/v1/organisations/{w.org.id}/audit", headers=auth(w.member)), 403)
    problem(client.get(f"/api/v1/organisations/{w.org.id}/audit", headers=auth(w.officer)), 403)
    problem(client.get(f"/api/v1/organisations/{w.org.id}/audit", headers=auth(w.other_member)), 404)


def test_out_of_range_ids_are_refused_before_the_database(client, db) -> None:
    w = World(db)
    base = f"/api/v1/organisations/{w.org.id}"
    for big in (2**31, 2**63):
        for method, path, field in (("GET", f"/api/v1/organisations/{big}", "org_id"), ("GET", f"/api/v1/organisations/{big}/contacts", "org_id"),
                                    ("PATCH", f"{base}/contacts/{big}", "contact_id"), ("GET", f"{base}/contacts/{big}/export", "contact_id"),
                                    ("POST", f"{base}/contacts/{big}/erase", "contact_id"), ("DELETE", f"{base}/contacts/{big}", "contact_id"),
                                    ("GET", f"{base}/board-minutes/{big}/content", "document_id")):
            r = client.request(method, path, json={"role": "x"} if method == "PATCH" else None, headers=auth(w.registrar))
            assert error_fields(problem(r, 422)) == {f"path.{field}"}, (method, path)
