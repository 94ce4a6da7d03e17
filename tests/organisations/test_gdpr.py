"""GDPR: export of everything held about a contact, and erasure that leaves no trace of it in API output."""

from __future__ import annotations

from datetime import datetime

from zoneinfo import ZoneInfo

from factories import World, auth, case
from helpers import problem
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.cases.stages import Stage
from service.dialogue.models import DialogueMeeting
from service.messages.models import Message

# Signatures are dated from the day the agreement document was drawn up (here: today, in the municipality's time zone).
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()

NAME, EMAIL, PHONE = "Gunilla Gdpr-Testsson", "gunilla.testsson@forening.example.se", "073-555 12 34"


def _contact(client, w) -> int:  # noqa: ANN001
    r = client.post(f"/api/v1/organisations/{w.org.id}/contacts", json={"name": NAME, "email": EMAIL, "phone": PHONE, "role": "Sekreterare"},
                    headers=auth(w.member))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _mentioning_case(client, db, w):  # noqa: ANN001, ANN202
    """A case whose thread and dialogue notes quote the contact."""
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    client.post(f"/api/v1/cases/{c.id}/messages", json={"body": f"Kontakta {NAME} på {EMAIL} eller 0735551234."}, headers=auth(w.member))
    client.post(f"/api/v1/cases/{c.id}/messages", json={"body": f"Intern: {NAME.upper()} svarar snabbt", "internal": True}, headers=auth(w.officer))
    client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Inget personligt här"}, headers=auth(w.member))
    r = client.post(f"/api/v1/cases/{c.id}/meetings", headers=auth(w.officer), json={
        "held_on": "2026-10-05", "place": "Stadshuset", "participants": [{"name": w.officer.full_name, "organisation": "Kommunen"},
                                                                         {"name": NAME, "organisation": "Föreningen"}],
        "notes": f"{NAME} (tel {PHONE}) presenterade verksamheten.", "next_steps": "Avtalsutkast"})
    assert r.status_code == 201, r.text
    return c, r.json()["id"]


def test_export_lists_data_and_where_it_appears(client, db) -> None:
    w = World(db)
    cid = _contact(client, w)
    c, meeting_id = _mentioning_case(client, db, w)
    r = client.get(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/export", headers=auth(w.registrar))
    assert r.status_code == 200, r.text
    export = r.json()
    assert export["contact"] | {"erased_at": None} == {"id": cid, "name": NAME, "email": EMAIL, "phone": PHONE, "role": "Sekreterare", "erased_at": None}
    assert export["organisation"]["id"] == w.org.id
    where = {(o["source"], o["id"]) for o in export["appears_in"]}
    messages = {m.id: m for m in db.scalars(select(Message).where(Message.case_id == c.id))}
    quoting = {mid for mid, m in messages.items() if "Inget" not in m.body}
    assert {("messages", mid) for mid in quoting} <= where
    assert ("dialogue_meetings", meeting_id) in where and ("contact_persons", cid) in where
    meeting = next(o for o in export["appears_in"] if o["source"] == "dialogue_meetings")
    assert set(meeting["fields"]) == {"notes", "participants"} and meeting["erased_on_request"] is True
    # The append-only audit chain holds no personal data: the meeting's event has a head count, not the names.
    assert not [o for o in export["appears_in"] if o["source"] == "audit_events" and o["fields"]]
    # The organisation's own member gets the extract too, without learning about internal notes.
    member = client.get(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/export", headers=auth(w.member)).json()
    internal_ids = {mid for mid, m in messages.items() if m.internal}
    assert not {("messages", mid) for mid in internal_ids} & {(o["source"], o["id"]) for o in member["appears_in"]}
    problem(client.get(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/export", headers=auth(w.officer)), 403)
    problem(client.get(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/export", headers=auth(w.other_member)), 404)
    exported = db.scalars(select(AuditEvent).where(AuditEvent.action == "organisation.contact_exported")).all()
    assert [e.after for e in exported] == [{"contact_id": cid}, {"contact_id": cid}]


def test_erase_is_for_registrars(client, db) -> None:
    w = World(db)
    cid = _contact(client, w)
    for who in (w.member, w.officer, w.approver):
        problem(client.post(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/erase", headers=auth(who)), 403)
    problem(client.post(f"/api/v1/organisations/{w.other_org.id}/contacts/{cid}/erase", headers=auth(w.registrar)), 404)
    r = client.post(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/erase", headers=auth(w.registrar))
    assert r.status_code == 200 and r.json()["name"] == f"Raderad kontakt #{cid}"
    problem(client.post(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/erase", headers=auth(w.registrar)), 409)


def test_after_erasure_no_api_output_holds_the_contact(client, db) -> None:
    w = World(db)
    cid = _contact(client, w)
    other = client.post(f"/api/v1/organisations/{w.org.id}/contacts", json={"name": "Bertil Kvar", "email": "bertil@example.se"},
                        headers=auth(w.member)).json()["id"]
    c, meeting_id = _mentioning_case(client, db, w)
    r = client.post(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/erase", headers=auth(w.registrar))
    assert r.status_code == 200, r.text
    alias = f"Raderad kontakt #{cid}"
    assert r.json() == {"id": cid, "name": alias, "email": None, "phone": None, "role": None, "erased_at": r.json()["erased_at"]}
    # The messages and notes that quoted the contact now quote the pseudonym; the rest is untouched.
    bodies = [m["body"] for m in client.get(f"/api/v1/cases/{c.id}/messages", headers=auth(w.officer)).json()["items"]]
    assert bodies == [f"Kontakta {alias} på {alias} eller {alias}.", f"Intern: {alias} svarar snabbt", "Inget personligt här"]
    meeting = db.get(DialogueMeeting, meeting_id)
    assert meeting.participants[1]["name"] == alias and meeting.participants[0]["name"] == w.officer.full_name
    # The erasure's own audit event carries the pseudonym, never the data.
    erased = db.scalars(select(AuditEvent).where(AuditEvent.action == "organisation.contact_erased")).one()
    assert erased.after["contact"] == alias
    outputs = {
        "organisation": client.get(f"/api/v1/organisations/{w.org.id}", headers=auth(w.registrar)),
        "organisations": client.get("/api/v1/organisations", headers=auth(w.officer)),
        "contacts": client.get(f"/api/v1/organisations/{w.org.id}/contacts", params={"include_erased": True}, headers=auth(w.member)),
        "export": client.get(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/export", headers=auth(w.registrar)),
        "org audit": client.get(f"/api/v1/organisations/{w.org.id}/audit", headers=auth(w.registrar)),
        "messages": client.get(f"/api/v1/cases/{c.id}/messages", headers=auth(w.registrar)),
        "meetings": client.get(f"/api/v1/cases/{c.id}/meetings", headers=auth(w.officer)),
        "timeline": client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(w.registrar)),
    }
    for what, resp in outputs.items():
        assert resp.status_code == 200, (what, resp.text)
        text = resp.text.lower()
        for needle in (NAME.lower(), EMAIL, "073-555 12 34", "0735551234"):
            assert needle not in text, f"{needle!r} still in {what}"
    # Other contacts are left alone; the erased one leaves the organisation's card and shows only as a pseudonym.
    assert [p["id"] for p in outputs["organisation"].json()["contacts"]] == [other]
    assert [(p["id"], p["name"]) for p in outputs["contacts"].json()] == [(cid, alias), (other, "Bertil Kvar")]
    for stream in ("organisation", "case"):
        target = f"/api/v1/organisations/{w.org.id}/audit/verify" if stream == "organisation" else f"/api/v1/cases/{c.id}/audit/verify"
        assert client.get(target, headers=auth(w.registrar)).json()["valid"] is True
    # The append-only case audit never held the contact: nothing there to leak.
    leaking = [e["action"] for e in client.get(f"/api/v1/cases/{c.id}/audit", headers=auth(w.registrar)).json()
               if NAME.lower() in str([e["before"], e["after"]]).lower() or EMAIL in str([e["before"], e["after"]])]
    assert leaking == []


def test_name_inside_the_email_does_not_leave_half_an_address(client, db) -> None:
    w = World(db)
    r = client.post(f"/api/v1/organisations/{w.org.id}/contacts", json={"name": "Greta", "email": "greta@exempel.se"}, headers=auth(w.member))
    cid = r.json()["id"]
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED)
    client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Skriv till greta@exempel.se, Greta svarar."}, headers=auth(w.member))
    assert client.post(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/erase", headers=auth(w.registrar)).status_code == 200
    body = client.get(f"/api/v1/cases/{c.id}/messages", headers=auth(w.member)).json()["items"][0]["body"]
    assert body == f"Skriv till Raderad kontakt #{cid}, Raderad kontakt #{cid} svarar."


def test_erased_participant_and_signatory_leaves_no_trace_in_audit_timeline_or_export(client, db) -> None:
    """A contact who sat in the dialogue meeting, was named in the checklist, the terms, the case text and a report,
    and signed for the organisation: after erasure neither the audit chain, the timeline nor the export names them."""
    from gates_setup import add_document, terms_payload

    from service.documents.models import DocumentKind

    from service.dialogue.checklist import ITEMS

    w = World(db)
    cid = _contact(client, w)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    officer, member = auth(w.officer), auth(w.member)

    def ok(r, status=200):  # noqa: ANN001, ANN202
        assert r.status_code == status, r.text
        return r.json()

    ok(client.post(f"/api/v1/cases/{c.id}/meetings", headers=officer, json={
        "held_on": "2026-10-05", "place": f"Hos {NAME}", "participants": [{"name": w.officer.full_name, "organisation": "Kommunen"},
                                                                       {"name": NAME, "organisation": "Föreningen", "role": "Sekreterare"}],
        "notes": f"{NAME} ({EMAIL}) presenterade verksamheten.", "next_steps": f"{NAME} skickar budget"}), 201)
    ok(client.put(f"/api/v1/cases/{c.id}/suitability", headers=officer, json={
        "items": {i.key: {"answer": "yes", "comment": f"Enligt {NAME}"} for i in ITEMS}, "state_aid_other_basis": f"Intygat av {EMAIL}"}))
    version = ok(client.get(f"/api/v1/cases/{c.id}", headers=officer))["version"]
    ok(client.patch(f"/api/v1/cases/{c.id}", json={"need": f"Behovet beskrevs av {NAME}, {EMAIL}."},
                    headers={**officer, "If-Match": f'"{version}"'}))
    c.stage = Stage.AGREEMENT
    db.commit()
    terms = terms_payload(w.org.name, w.org.orgnr)
    terms["organisation_party"]["signatory_name"] = NAME
    terms["governance"] = f"Styrgrupp där {NAME} ({EMAIL}) är sammankallande."
    ok(client.put(f"/api/v1/cases/{c.id}/agreement", json=terms, headers=officer))
    add_document(db, c, DocumentKind.AGREEMENT)  # signatures are recorded on a generated agreement document
    db.commit()
    ok(client.post(f"/api/v1/cases/{c.id}/signatures", headers=member,
                   json={"party": "organisation", "name": NAME, "role": "Sekreterare", "signed_on": TODAY}), 201)
    ok(client.post(f"/api/v1/cases/{c.id}/signatures", headers=officer,
                   json={"party": "public", "name": "Eva Ek", "role": "Förvaltningschef", "signed_on": TODAY}), 201)
    c.stage = Stage.FOLLOW_UP
    db.commit()
    report = ok(client.post(f"/api/v1/cases/{c.id}/followup-reports", headers=officer,
                            json={"period_start": "2027-01-01", "period_end": "2027-12-31", "due_on": "2028-01-31"}), 201)
    ok(client.post(f"/api/v1/cases/{c.id}/followup-reports/{report['id']}/submit", headers=member,
                   json={"activities_done": f"{NAME} ledde 40 träffar", "participants_reached": 120, "money_used_sek": 150_000,
                         "deviations": f"Kontakta {EMAIL}"}))
    ok(client.post(f"/api/v1/cases/{c.id}/messages", json={"body": f"Tack {NAME}!"}, headers=officer), 201)

    # Before erasure: the export finds the contact in the working material, and in no audit event.
    export = ok(client.get(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/export", headers=auth(w.registrar)))
    sources = {o["source"] for o in export["appears_in"]}
    assert {"contact_persons", "dialogue_meetings", "signatures", "agreements", "messages"} <= sources
    assert not [o for o in export["appears_in"] if o["source"] == "audit_events" and o["fields"]]

    ok(client.post(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/erase", headers=auth(w.registrar)))
    outputs = {
        "case audit": client.get(f"/api/v1/cases/{c.id}/audit", headers=auth(w.registrar)),
        "org audit": client.get(f"/api/v1/organisations/{w.org.id}/audit", headers=auth(w.registrar)),
        "timeline (registrar)": client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(w.registrar)),
        "timeline (member)": client.get(f"/api/v1/cases/{c.id}/timeline", headers=member),
        "export after erasure": client.get(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/export", headers=auth(w.registrar)),
    }
    for what, resp in outputs.items():
        assert resp.status_code == 200, (what, resp.text)
        text = resp.text.lower()
        for needle in (NAME.lower(), EMAIL, "gunilla", "testsson", PHONE):
            assert needle not in text, f"{needle!r} still in {what}"
    # What the chain keeps instead: ids, counts, amounts and field names.
    events = {e["action"]: e for e in outputs["case audit"].json()}
    assert events["dialogue.meeting_recorded"]["after"]["participants"] == 2
    assert events["dialogue.meeting_recorded"]["after"]["text_fields"] == ["next_steps", "notes", "place"]
    assert events["agreement.signed"]["after"]["party"] in ("organisation", "public")
    assert events["followup.submitted"]["after"]["participants_reached"] == 120
    assert events["case.updated"]["after"]["fields"] == ["need"]
    assert client.get(f"/api/v1/cases/{c.id}/audit/verify", headers=auth(w.registrar)).json()["valid"] is True


def test_a_completion_request_that_names_the_contact_is_exported_and_erased(client, db) -> None:
    """An officer's completion request is free text shown to the organisation: it quotes people as messages do."""
    from service.cases.models import CompletionRequest

    w = World(db)
    cid = _contact(client, w)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    r = client.post(f"/api/v1/cases/{c.id}/request-completion", json={"message": f"Be {NAME} skicka budgeten till {EMAIL}."},
                    headers=auth(w.officer))
    assert r.status_code == 200, r.text
    export = client.get(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/export", headers=auth(w.registrar)).json()
    assert [o["source"] for o in export["appears_in"] if o["source"] == "completion_requests"] == ["completion_requests"]
    assert client.post(f"/api/v1/organisations/{w.org.id}/contacts/{cid}/erase", headers=auth(w.registrar)).status_code == 200
    message = db.scalars(select(CompletionRequest).where(CompletionRequest.case_id == c.id)).one().message
    assert NAME not in message and EMAIL not in message and f"Raderad kontakt #{cid}" in message
    for path in (f"/api/v1/cases/{c.id}/timeline", f"/api/v1/cases/{c.id}"):
        assert NAME.lower() not in client.get(path, headers=auth(w.member)).text.lower()
