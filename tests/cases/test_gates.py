"""Every gate refuses with the missing items listed, and passes once they are supplied."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from factories import World, auth, case
from gates_setup import add_document, terms_payload
from helpers import error_fields, problem

from service.cases.stages import Stage
from service.dialogue.checklist import ITEMS
from service.documents.models import DocumentKind

# Signatures are dated from the day the agreement document was drawn up (here: today, in the municipality's time zone).
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()


def request(client, c, user, **body):  # noqa: ANN001, ANN201
    return client.post(f"/api/v1/cases/{c.id}/reviews", json=body, headers=auth(user))


def test_identify_need_gate(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, complete=False)
    body = problem(request(client, c, w.officer), 409)
    assert body["type"].endswith("gate-failed")
    assert error_fields(body) == {"need", "target_group", "planned_activities", "own_contribution", "requested_amount_sek", "period", "officer_id"}
    r = client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": w.officer.id}, headers=auth(w.officer))
    assert r.status_code == 200, r.text
    patch = {"need": "Ensamhet", "target_group": "Äldre", "planned_activities": "Träffar", "volunteer_hours": 100,
             "requested_amount_sek": 200_000, "period_start": "2027-01-01", "period_end": "2027-12-31"}
    r = client.patch(f"/api/v1/cases/{c.id}", json=patch, headers={**auth(w.officer), "If-Match": r.headers["etag"]})
    assert r.status_code == 200, r.text
    r = request(client, c, w.officer)
    assert r.status_code == 201, r.text
    assert r.json()["to_stage"] == "dialogue"


def test_dialogue_gate_meeting_and_checklist(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    body = problem(request(client, c, w.officer), 409)
    assert error_fields(body) == {"dialogue_meetings", "suitability"}
    r = client.post(f"/api/v1/cases/{c.id}/meetings", headers=auth(w.officer), json={
        "held_on": "2026-10-05", "place": "Stadshuset", "participants": [{"name": "Anna Handläggare", "organisation": "Kommunen"}],
        "notes": "Behovet bekräftat", "next_steps": "Ta fram avtalsutkast"})
    assert r.status_code == 201, r.text
    answers = {i.key: {"answer": "yes"} for i in ITEMS}
    answers["not_procurement"] = {"answer": "unclear", "comment": "Kolla med upphandlingsenheten"}
    del answers["target_group_goals"]
    r = client.put(f"/api/v1/cases/{c.id}/suitability", json={"items": answers}, headers=auth(w.officer))
    assert r.status_code == 200 and r.json()["complete"] is False
    assert error_fields(problem(request(client, c, w.officer), 409)) == {"suitability.not_procurement", "suitability.target_group_goals"}
    answers["not_procurement"] = {"answer": "yes"}
    answers["target_group_goals"] = {"answer": "yes"}
    assert client.put(f"/api/v1/cases/{c.id}/suitability", json={"items": answers}, headers=auth(w.officer)).json()["complete"] is True
    assert request(client, c, w.officer).status_code == 201


def test_dialogue_gate_de_minimis(client, db) -> None:
    w = World(db)
    # Already granted: 3.4 MSEK ≈ 295 652 euro at 11.5 SEK/EUR; this case's 400 000 SEK tips it over 300 000 euro.
    case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, requested_amount_sek=3_400_000, period_start=date(2026, 1, 1))
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id, period_start=date(2027, 1, 1))
    client.post(f"/api/v1/cases/{c.id}/meetings", headers=auth(w.officer), json={"held_on": "2026-10-05", "participants": [{"name": "A"}]})
    answers = {i.key: {"answer": "yes"} for i in ITEMS}
    client.put(f"/api/v1/cases/{c.id}/suitability", json={"items": answers}, headers=auth(w.officer))
    calc = client.get(f"/api/v1/cases/{c.id}/de-minimis", headers=auth(w.officer)).json()
    assert calc["total_sek"] == 3_800_000 and calc["passes"] is False and len(calc["lines"]) == 2
    assert error_fields(problem(request(client, c, w.officer), 409)) == {"de_minimis"}
    # The same organisation's case outside the three-year window does not count.
    other = client.get(f"/api/v1/cases/{c.id}/de-minimis", headers=auth(w.officer))
    assert other.json()["window_start"] == "2024-01-01"
    # Another legal basis than de minimis lets it through.
    client.put(f"/api/v1/cases/{c.id}/suitability", headers=auth(w.officer),
               json={"items": answers, "state_aid_other_basis": "SGEI-beslut (2012/21/EU), kommunfullmäktige 2026-03-01"})
    assert request(client, c, w.officer).status_code == 201


def test_de_minimis_ignores_cases_outside_window_and_refused_ones(client, db) -> None:
    w = World(db)
    case(db, w.org, w.dep, stage=Stage.CLOSED, requested_amount_sek=3_400_000, period_start=date(2022, 1, 1), period_end=date(2022, 12, 31))
    case(db, w.org, w.dep, stage=Stage.REJECTED, requested_amount_sek=9_000_000, period_start=date(2026, 1, 1))
    case(db, w.other_org, w.dep, stage=Stage.FOLLOW_UP, requested_amount_sek=9_000_000, period_start=date(2026, 1, 1))
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, period_start=date(2027, 1, 1))
    calc = client.get(f"/api/v1/cases/{c.id}/de-minimis", headers=auth(w.officer)).json()
    assert calc["total_sek"] == 400_000 and calc["passes"] is True


def test_agreement_gate(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    body = problem(request(client, c, w.officer), 409)
    assert error_fields(body) == {"agreement", "agreement_document", "signatures.public", "signatures.organisation"}
    bad = terms_payload(w.org.name, w.org.orgnr)
    bad["instalments"][0]["amount_sek"] += 1
    r = client.put(f"/api/v1/cases/{c.id}/agreement", json=bad, headers=auth(w.officer))
    assert any(e["field"] == "instalments" for e in problem(r, 422)["errors"])
    r = client.put(f"/api/v1/cases/{c.id}/agreement", json=terms_payload(w.org.name, w.org.orgnr), headers=auth(w.officer))
    assert r.status_code == 200, r.text
    add_document(db, c, DocumentKind.AGREEMENT)
    for party, who in (("public", w.officer), ("organisation", w.member)):
        r = client.post(f"/api/v1/cases/{c.id}/signatures", headers=auth(who),
                        json={"party": party, "name": "N N", "role": "Firmatecknare", "signed_on": TODAY})
        assert r.status_code == 201, r.text
    assert error_fields(problem(request(client, c, w.officer), 409)) == {"signed_copy"}
    add_document(db, c, DocumentKind.SIGNED_AGREEMENT)
    # An approver whose delegation is below the funding cannot be asked.
    assert error_fields(problem(request(client, c, w.officer, approver_id=w.small_approver.id), 409)) == {"approver_id"}
    r = request(client, c, w.officer, approver_id=w.approver.id)
    assert r.status_code == 201, r.text


def test_follow_up_gate(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id)
    assert error_fields(problem(request(client, c, w.officer), 409)) == {"followup_reports"}
    r = client.post(f"/api/v1/cases/{c.id}/followup-reports", headers=auth(w.officer),
                    json={"period_start": "2027-01-01", "period_end": "2027-12-31", "due_on": "2028-01-31", "is_final": True})
    rid = r.json()["id"]
    assert error_fields(problem(request(client, c, w.officer), 409)) == {f"followup_reports.{rid}"}
    report = {"activities_done": "120 träffar", "participants_reached": 180, "money_used_sek": 390_000, "deviations": ""}
    assert client.post(f"/api/v1/cases/{c.id}/followup-reports/{rid}/submit", json=report, headers=auth(w.member)).status_code == 200
    r = client.post(f"/api/v1/cases/{c.id}/followup-reports/{rid}/assessment", json={"assessment": "needs_completion", "comment": "Bifoga ekonomisk redovisning"},
                    headers=auth(w.officer))
    assert r.status_code == 200
    problem(request(client, c, w.officer), 409)
    client.post(f"/api/v1/cases/{c.id}/followup-reports/{rid}/submit", json=report, headers=auth(w.member))
    client.post(f"/api/v1/cases/{c.id}/followup-reports/{rid}/assessment", json={"assessment": "approved"}, headers=auth(w.officer))
    r = request(client, c, w.officer)
    assert r.status_code == 201 and r.json()["to_stage"] == "closed"


def test_a_meeting_dated_in_the_future_does_not_count(client, db) -> None:
    from datetime import timedelta

    from service.dialogue.models import DialogueMeeting

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    db.add(DialogueMeeting(case_id=c.id, held_on=today + timedelta(days=7), participants=[{"name": "A"}]))
    db.flush()
    assert "dialogue_meetings" in error_fields(problem(request(client, c, w.officer), 409))
    db.add(DialogueMeeting(case_id=c.id, held_on=today, participants=[{"name": "A"}]))
    db.flush()
    assert "dialogue_meetings" not in error_fields(problem(request(client, c, w.officer), 409))  # the checklist is still missing
