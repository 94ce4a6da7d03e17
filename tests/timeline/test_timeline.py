"""Case timeline: one chronological list from every source, with the organisation's view filtered."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from factories import World, auth, case, department, user
from gates_setup import add_document
from helpers import problem
import pytest

from service.auth.models import Role
from service.cases.stages import Stage
from service.documents.models import DocumentKind


def _timeline(client, c, who) -> list[dict]:  # noqa: ANN001
    r = client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def _walk_to_dialogue(client, db, w):  # noqa: ANN001, ANN202
    """Submit, assign, review and approve, through the API, then add a meeting, messages, a report and documents."""
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    assert client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member)).status_code == 200
    assert client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": w.officer.id}, headers=auth(w.officer)).status_code == 200
    rid = client.post(f"/api/v1/cases/{c.id}/reviews", json={"comment": "Komplett"}, headers=auth(w.officer)).json()["id"]
    r = client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": "approve", "motivation": "Bra"}, headers=auth(w.approver))
    assert r.status_code == 200, r.text
    assert client.post(f"/api/v1/cases/{c.id}/meetings", headers=auth(w.officer), json={
        "held_on": "2026-10-05", "place": "Stadshuset", "participants": [{"name": "Anna Andersson"}, {"name": "Bo Berg"}],
        "notes": "Anteckningar"}).status_code == 201
    client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Tack för mötet!"}, headers=auth(w.member))
    client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Hemlig bedömning", "internal": True}, headers=auth(w.officer))
    open_doc = add_document(db, c, DocumentKind.DIALOGUE_MINUTES)
    hidden = add_document(db, c, DocumentKind.ATTACHMENT)
    hidden.internal = True
    db.flush()
    return c, rid, open_doc, hidden


def test_timeline_merges_every_source_in_order(client, db) -> None:
    w = World(db)
    c, rid, open_doc, hidden = _walk_to_dialogue(client, db, w)
    items = _timeline(client, c, w.officer)
    stamps = [datetime.fromisoformat(i["at"]) for i in items]
    types = [i["type"] for i in items]
    assert stamps == sorted(stamps)
    # The triage and review deadlines were met when the officer was assigned and the review decided: they sit there.
    assert [t for t in types if t != "deadline"][:7] == [
        "stage_changed", "case_event", "review_requested", "review_decided", "stage_changed", "meeting_recorded", "message_posted"]
    assigned = next(i for i in items if i["type"] == "case_event")
    assert assigned["title"] == "Handläggare tilldelad" and assigned["refs"]["officer_id"] == w.officer.id
    assert types.index("deadline") < types.index("review_requested") and types[-1] == "deadline"  # the open dialogue deadline is ahead
    titles = [i["title"] for i in items]
    assert titles[0] == "Ärendet skickades in"
    assert "Beslut begärt: Behovsidentifiering → Dialog" in titles and "Beslut: godkänt (Behovsidentifiering → Dialog)" in titles
    assert "Ärendet gick till skedet Dialog" in titles
    decided = next(i for i in items if i["type"] == "review_decided")
    assert decided["refs"] == {"review_id": rid} and decided["detail"] == "Bra" and decided["actor_id"] == w.approver.id
    meeting = next(i for i in items if i["type"] == "meeting_recorded")
    assert meeting["detail"] == "Hölls 2026-10-05, Stadshuset, 2 deltagare"
    assert "Anna" not in str(items)  # participants' names stay in the meeting record
    docs = {i["refs"]["document_id"]: i for i in items if i["type"] == "document_stored"}
    assert set(docs) == {open_doc.id, hidden.id} and docs[hidden.id]["internal"] is True
    assert any(i["type"] == "message_posted" and i["internal"] and i["title"] == "Intern anteckning" for i in items)
    deadlines = [i for i in items if i["type"] == "deadline"]
    assert len(deadlines) == 3 and all(i["title"].startswith("Tidsfrist: ") and i["internal"] for i in deadlines)
    review_deadline = next(i for i in deadlines if i["refs"].get("review_id") == rid)
    assert review_deadline["detail"].startswith("Uppfylld; förfallodag ")
    assert datetime.fromisoformat(review_deadline["at"]) >= datetime.fromisoformat(decided["at"])  # met by the decision
    assert deadlines[-1]["detail"].startswith("Öppen")


def test_organisation_sees_no_internal_items(client, db) -> None:
    w = World(db)
    c, _, open_doc, hidden = _walk_to_dialogue(client, db, w)
    items = _timeline(client, c, w.member)
    assert all(not i["internal"] for i in items)
    assert {i["type"] for i in items} == {"stage_changed", "case_event", "review_requested", "review_decided", "meeting_recorded",
                                          "message_posted", "document_stored"}
    assert [i["refs"]["document_id"] for i in items if i["type"] == "document_stored"] == [open_doc.id]
    assert "Hemlig" not in str(items)
    assert len(_timeline(client, c, w.registrar)) == len(_timeline(client, c, w.officer))


def test_followup_and_signature_entries(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id)
    r = client.post(f"/api/v1/cases/{c.id}/followup-reports", headers=auth(w.officer),
                    json={"period_start": "2027-01-01", "period_end": "2027-12-31", "due_on": "2028-01-31", "is_final": True})
    report_id = r.json()["id"]
    client.post(f"/api/v1/cases/{c.id}/followup-reports/{report_id}/submit", headers=auth(w.member),
                json={"activities_done": "Träffar varje vecka", "participants_reached": 120, "money_used_sek": 380_000})
    client.post(f"/api/v1/cases/{c.id}/followup-reports/{report_id}/assessment", headers=auth(w.officer),
                json={"assessment": "needs_completion", "comment": "Bifoga ekonomisk redovisning"})
    items = [i for i in _timeline(client, c, w.member) if "followup_report_id" in i["refs"]]
    assert [(i["type"], i["title"]) for i in items] == [
        ("followup_scheduled", "Slutrapport planerad"), ("followup_submitted", "Slutrapport inlämnad"),
        ("followup_assessed", "Slutrapport behöver kompletteras")]
    assert items[0]["detail"] == "Period 2027-01-01–2027-12-31, ska lämnas senast 2028-01-31"
    assert items[2]["detail"] == "Bifoga ekonomisk redovisning"


def test_timeline_visibility(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    assert _timeline(client, c, w.member) == []
    problem(client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(w.officer)), 404)  # drafts belong to the organisation
    problem(client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(w.other_member)), 404)
    problem(client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(user(db, Role.OFFICER, department=department(db)))), 404)
    problem(client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(w.admin)), 404)
    problem(client.get("/api/v1/cases/999999/timeline", headers=auth(w.registrar)), 404)


def test_history_lists_every_audited_event(client, db) -> None:
    """Assignment, edits, pause and resume, extension, agreement terms, signatures: all from the audit trail, the
    organisation's view without the administration's own events, and no free text the chain keeps as a digest."""

    from gates_setup import terms_payload
    from sqlalchemy import select

    from service.audit.models import AuditEvent
    from service.timeline.service import REPRESENTED

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DRAFT)
    ok = lambda r, code=200: r.status_code == code or pytest.fail(r.text)  # noqa: E731
    ok(client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member)))
    ok(client.post(f"/api/v1/cases/{c.id}/suspend", json={"reason": "Väntar på Kalle Ankas läkarintyg"}, headers=auth(w.officer)), 201)
    ok(client.post(f"/api/v1/cases/{c.id}/resume", headers=auth(w.officer)))
    deadline = next(d for d in client.get(f"/api/v1/cases/{c.id}/deadlines", headers=auth(w.officer)).json() if d["status"] == "open")
    ok(client.post(f"/api/v1/cases/{c.id}/deadlines/{deadline['id']}/extend", json={"working_days": 3, "reason": "Semester"},
                   headers=auth(w.officer)))
    ok(client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": w.officer.id}, headers=auth(w.officer)))
    version = client.get(f"/api/v1/cases/{c.id}", headers=auth(w.officer)).json()["version"]
    ok(client.patch(f"/api/v1/cases/{c.id}", json={"requested_amount_sek": 350_000, "target_group": "Äldre i Norrby"},
                    headers={**auth(w.officer), "If-Match": f'"{version}"'}))
    c.stage = Stage.AGREEMENT
    db.flush()
    ok(client.put(f"/api/v1/cases/{c.id}/agreement", json=terms_payload(w.org.name, w.org.orgnr), headers=auth(w.officer)))
    add_document(db, c, DocumentKind.AGREEMENT)
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()  # the agreement is dated in Stockholm time
    for party, who in (("public", w.officer), ("organisation", w.member)):
        ok(client.post(f"/api/v1/cases/{c.id}/signatures", headers=auth(who),
                       json={"party": party, "name": "Nils Nilsson", "role": "Firmatecknare", "signed_on": today}), 201)

    staff = _timeline(client, c, w.officer)
    titles = [i["title"] for i in staff]
    for expected in ("Handläggare tilldelad", "Ärendets uppgifter ändrades", "Ärendet pausades", "Ärendet återupptogs",
                     "Tidsfrist förlängd", "Överenskommelsens villkor sparades", "Underskrift registrerad för kommunen/regionen",
                     "Underskrift registrerad för organisationen"):
        assert expected in titles, (expected, titles)
    edit = next(i for i in staff if i["action"] == "case.updated")
    assert edit["detail"] == "Ändrat: begärt bidrag, målgrupp" and edit["actor_id"] == w.officer.id
    assert next(i for i in staff if i["action"] == "agreement.signed")["detail"] == f"Undertecknat {today}"
    assert "Ny förfallodag" in next(i for i in staff if i["action"] == "deadline.extended")["detail"]
    text = str(staff)
    assert "Kalle" not in text and "Semester" not in text and "Nils" not in text and "Norrby" not in text
    # Every audited event of the case is in the history: by its own record, or as its own entry.
    audited = db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id)).all()
    shown = {i["refs"]["audit_event_id"] for i in staff if "audit_event_id" in i["refs"]}
    assert {e.id for e in audited if e.action not in REPRESENTED} == shown and len(shown) >= 8

    org = _timeline(client, c, w.member)
    org_actions = {i["action"] for i in org if i["action"]}
    assert {"case.officer_assigned", "case.updated", "case.suspended", "case.resumed", "agreement.signed"} <= org_actions
    assert "deadline.extended" not in org_actions and not any(i["internal"] for i in org)
