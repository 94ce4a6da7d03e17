"""Diarium: an entry per handling with consecutive löpnummer, secrecy hidden from the organisation, audited corrections."""

from __future__ import annotations

from factories import World, auth, case, department, user
from helpers import error_fields, problem
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.auth.models import Role
from service.cases.stages import Stage
from service.diarium.models import DiaryEntry

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _diary(client, c, who) -> list[dict]:  # noqa: ANN001
    r = client.get(f"/api/v1/cases/{c.id}/diary", headers=auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def _upload(client, c, who, name="fil.pdf", **form):  # noqa: ANN001, ANN202
    r = client.post(f"/api/v1/cases/{c.id}/attachments", files={"file": (name, PDF, "application/pdf")}, data=form, headers=auth(who))
    assert r.status_code == 201, r.text
    return r.json()


def _patch(client, c, entry, who, body, version=None):  # noqa: ANN001, ANN202
    return client.patch(f"/api/v1/cases/{c.id}/diary/{entry['id']}", json=body, headers={
        **auth(who), "If-Match": f'"{entry["version"] if version is None else version}"'})


def test_each_kind_of_handling_gets_the_next_lopnummer(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    uploaded = _upload(client, c, w.member, "Verksamhetsberättelse 2025.pdf")
    internal = _upload(client, c, w.officer, "intern-bedömning.pdf", internal="true")
    asked = client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Hur stor är lokalen?\nMvh"}, headers=auth(w.officer)).json()
    answered = client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "120 kvm."}, headers=auth(w.member)).json()
    note = client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Intern notering", "internal": True}, headers=auth(w.officer))
    assert note.status_code == 201
    rid = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).json()["id"]
    decided = client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": "approve", "motivation": "Väl belagt."},
                          headers=auth(w.approver))
    assert decided.status_code == 200, decided.text
    generated = client.post(f"/api/v1/cases/{c.id}/documents/decision/generate", headers=auth(w.officer))
    assert generated.status_code == 201, generated.text

    entries = _diary(client, c, w.registrar)
    assert [e["number"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert [e["reference"] for e in entries] == [f"{c.diarienummer}-{n}" for n in range(1, 7)]
    assert [(e["direction"], e["document_type"]) for e in entries] == [
        ("inkommande", "Bilaga"), ("upprättad", "Bilaga"), ("utgående", "Meddelande"), ("inkommande", "Meddelande"),
        ("upprättad", "Beslut"), ("upprättad", "Beslut")]
    assert [e["document_id"] for e in entries] == [uploaded["id"], internal["id"], None, None, None, generated.json()["id"]]
    assert [e["message_id"] for e in entries] == [None, None, asked["id"], answered["id"], None, None]
    assert entries[4]["review_id"] == rid
    assert entries[0]["counterpart"] == w.org.name and "Verksamhetsberättelse 2025.pdf" in entries[0]["description"]
    # The message's text stays in its (erasable) row, not in the diarium.
    assert [entries[2]["description"], entries[3]["description"]] == ["Meddelande till organisationen", "Meddelande från organisationen"]
    # The organisation does not learn that the internal document exists.
    assert [e["number"] for e in _diary(client, c, w.member)] == [1, 3, 4, 5, 6]


def test_confidential_entry_hidden_from_the_organisation_and_correction_audited(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    _upload(client, c, w.member, "Ekonomisk redovisning.pdf")
    _upload(client, c, w.member, "Intyg.pdf")
    first, second = _diary(client, c, w.registrar)
    r = _patch(client, c, second, w.registrar, {"confidential": True, "osl_reference": "OSL 31 kap. 16 §",
                                                 "description": "Intyg om ekonomisk ställning", "document_type": "Övrigt"})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"' and r.json()["confidential"] is True and r.json()["osl_reference"] == "OSL 31 kap. 16 §"
    assert [e["number"] for e in _diary(client, c, w.member)] == [1]
    assert [e["number"] for e in _diary(client, c, w.officer)] == [1, 2]
    event = db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "diary.corrected")).one()
    assert event.before["confidential"] is False and event.before["document_type"] == "Bilaga"
    assert event.after["confidential"] is True and event.after["osl_reference"] == "OSL 31 kap. 16 §"
    assert event.before["text_sha256"] != event.after["text_sha256"]
    assert "Intyg om ekonomisk ställning" not in str(event.after)  # free text stays out of the chain
    assert event.actor_id == w.registrar.id
    # A stale version is refused; only the registrar corrects.
    problem(_patch(client, c, second, w.registrar, {"description": "Igen"}, version=1), 409)
    for who in (w.officer, w.approver, w.member):
        problem(_patch(client, c, first, who, {"description": "Ändrad"}), 403)
    # Released again: the OSL reference goes with the secrecy.
    r = _patch(client, c, second, w.registrar, {"confidential": False}, version=2)
    assert r.status_code == 200 and r.json()["osl_reference"] is None
    assert [e["number"] for e in _diary(client, c, w.member)] == [1, 2]


def test_bad_corrections_are_422_and_change_nothing(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    _upload(client, c, w.member)
    (entry,) = _diary(client, c, w.registrar)
    body = problem(_patch(client, c, entry, w.registrar, {"confidential": True, "description": "Ny text"}), 422)
    assert error_fields(body) == {"osl_reference"}
    body = problem(_patch(client, c, entry, w.registrar, {"document_type": "Hemlig typ", "confidential": True, "osl_reference": "OSL 21:1"}), 422)
    assert error_fields(body) == {"document_type"}
    problem(_patch(client, c, entry, w.registrar, {"description": "x" * 301}), 422)
    problem(_patch(client, c, entry, w.registrar, {"number": 7}), 422)
    assert error_fields(problem(_patch(client, c, entry, w.registrar, {"description": "Bilaga\x00", "counterpart": "A\x07"}), 422)) == {
        "description", "counterpart"}
    problem(client.patch(f"/api/v1/cases/{c.id}/diary/{entry['id']}", json={"description": "Utan version"}, headers=auth(w.registrar)), 428)
    db.expire_all()
    row = db.get(DiaryEntry, entry["id"])
    assert (row.description, row.document_type, row.confidential, row.osl_reference, row.version) == (
        entry["description"], "Bilaga", False, None, 1)
    assert not db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "diary.corrected")).all()


def test_configured_document_types(client, db, store, app) -> None:
    from service.config import Settings
    from service.deps import app_settings

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    _upload(client, c, w.member)
    (entry,) = _diary(client, c, w.registrar)
    app.dependency_overrides[app_settings] = lambda: Settings(diarium_document_types=["Bilaga", "Skrivelse"])
    try:
        assert _patch(client, c, entry, w.registrar, {"document_type": "Skrivelse"}).json()["document_type"] == "Skrivelse"
        assert error_fields(problem(_patch(client, c, entry, w.registrar, {"document_type": "Övrigt"}, version=2), 422)) == {"document_type"}
    finally:
        app.dependency_overrides.pop(app_settings, None)


def test_search_follows_case_visibility(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    other_dep = department(db)
    elsewhere = case(db, w.org, other_dep, stage=Stage.DIALOGUE)
    _upload(client, c, w.member, "Budget 2027.pdf")
    other_officer = user(db, Role.OFFICER, department=other_dep)
    _upload(client, elsewhere, other_officer, "Budget 2027 annan.pdf")
    db.flush()
    search = lambda who, **params: client.get("/api/v1/diary", params=params, headers=auth(who))  # noqa: E731
    assert {e["case_id"] for e in search(w.registrar, q="budget 2027").json()} == {c.id, elsewhere.id}
    assert {e["case_id"] for e in search(w.officer, q="BUDGET").json()} == {c.id}
    assert search(w.officer, q="finns inte").json() == []
    assert {e["case_id"] for e in search(w.registrar, q=c.diarienummer).json()} == {c.id}
    today = search(w.registrar).json()[0]["entry_date"]
    assert len(search(w.registrar, **{"from": today, "to": today, "q": "budget"}).json()) == 2
    assert search(w.registrar, **{"from": "2001-01-01", "to": "2001-12-31"}).json() == []
    problem(search(w.registrar, **{"from": "2001-12-31", "to": "2001-01-01"}), 422)
    problem(search(w.registrar, **{"from": "inte-ett-datum"}), 422)
    assert error_fields(problem(search(w.registrar, q="budget\x00"), 422)) == {"q"}
    for who in (w.member, w.approver, w.admin):
        problem(search(who), 403)
