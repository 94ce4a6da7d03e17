"""The whole journey, draft → closed, through the API only and as the real roles.

Every gate is met first with a refusal (409 gate-failed listing exactly what is missing) and passes once the
missing item is supplied. Along the way: an internal note the organisation never sees, instalments that do not
add up (422 naming `instalments`), a second case refused for de minimis, and a contact person erased so that no
API answer still carries their name, e-mail or phone number.
"""

from __future__ import annotations

from datetime import datetime

from zoneinfo import ZoneInfo

from typing import Any

import pytest
from factories import World, auth, make_orgnr
from gates_setup import terms_payload
from helpers import error_fields, problem
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from service.dialogue.checklist import ITEMS
from service.documents import service as documents
from storage.filesystem import FilesystemStore

# Signatures are dated from the day the agreement document was drawn up (here: today, in the municipality's time zone).
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()

CONTACT = {"name": "Greta Resande-Lind", "email": "greta.lind@stodforeningen.example.se", "phone": "070-987 65 43", "role": "Verksamhetsledare"}
# How the contact's data may be spelled in free text or JSON.
CONTACT_NEEDLES = ("greta resande-lind", "greta.lind@stodforeningen.example.se", "070-987 65 43", "0709876543")


def minimal_pdf(text: str) -> bytes:
    """A small but well-formed one-page PDF (real xref table) with a line of ASCII text."""
    stream = b"BT /F1 12 Tf 72 770 Td (" + text.encode("ascii") + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def store(app, tmp_path):  # noqa: ANN001, ANN201
    """Documents go to a real filesystem object store."""
    s = FilesystemStore(tmp_path / "objects")
    app.dependency_overrides[documents.get_store] = lambda: s
    yield s
    app.dependency_overrides.pop(documents.get_store, None)


class Api:
    """Thin helpers over the test client: every call asserts its expected status."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def call(self, method: str, path: str, who: Any, status: int, **kw: Any) -> Any:
        headers = {**(auth(who) if who is not None else {}), **kw.pop("headers", {})}
        r = self.client.request(method, f"/api/v1{path}", headers=headers, **kw)
        assert r.status_code == status, f"{method} {path}: expected {status}, got {r.status_code}: {r.text}"
        return r

    def gate_refuses(self, case_id: int, who: Any, missing: set[str], **body: Any) -> None:
        """A review request is refused by the gate listing exactly `missing`."""
        r = self.client.post(f"/api/v1/cases/{case_id}/reviews", json=body, headers=auth(who))
        problem_body = problem(r, 409)
        assert problem_body["type"].endswith("/gate-failed"), problem_body
        assert error_fields(problem_body) == missing, problem_body["errors"]

    def review_passes(self, case_id: int, requester: Any, approver: Any, to_stage: str, **body: Any) -> None:
        """The gate lets the request through and a different approver approves it."""
        assert approver.id != requester.id  # four eyes
        review = self.call("POST", f"/cases/{case_id}/reviews", requester, 201, json=body).json()
        assert review["to_stage"] == to_stage
        self.call("POST", f"/cases/{case_id}/reviews/{review['id']}/decision", approver, 200,
                  json={"decision": "approve", "motivation": "Villkoren är uppfyllda."})
        assert self.call("GET", f"/cases/{case_id}", requester, 200).json()["stage"] == to_stage

    def etag(self, case_id: int, who: Any) -> str:
        return self.call("GET", f"/cases/{case_id}", who, 200).headers["etag"]


def _register(api: Api, db: Session, w: World) -> tuple[Any, dict]:
    """The organisation registers itself and its first member; the member is then used like any other user."""
    from service.auth.models import User

    api.call("POST", "/auth/register", None, 202, json={
        "email": "ordforande@stodforeningen.example.se", "password": "långt-och-hemligt", "full_name": "Olle Ordförande",
        "organisation": {"name": "Stödföreningen Resan", "orgnr": make_orgnr(), "legal_form": "ideell_forening",
                         "purpose": "Stöd och gemenskap för äldre", "city": "Exempelstad", "contacts": [CONTACT]}})
    member = db.scalar(select(User).where(User.email == "ordforande@stodforeningen.example.se"))
    # A self-registered organisation is confirmed by an officer before its proposals can be submitted.
    org = api.call("POST", f"/organisations/{member.organisation_id}/verify", w.officer, 200).json()
    assert org["verified_at"] is not None
    return member, org


def test_journey_draft_to_closed(client: TestClient, db: Session, store: FilesystemStore) -> None:  # noqa: PLR0915 - it is one story
    w = World(db)
    api = Api(client)
    member, org = _register(api, db, w)
    contact_id = org["contacts"][0]["id"]

    # The organisation joins the local överenskommelse with its board minutes.
    minutes = minimal_pdf("Styrelseprotokoll: foreningen ansluter till overenskommelsen.")
    joined = api.call("POST", f"/organisations/{org['id']}/overenskommelse", member, 201, data={"date": "2026-02-10"},
                      files={"file": ("styrelseprotokoll.pdf", minutes, "application/pdf")}).json()
    assert joined["joined_overenskommelse_on"] == "2026-02-10"
    dl = api.call("GET", f"/organisations/{org['id']}/board-minutes/{joined['board_minutes'][0]['id']}/content", w.officer, 200)
    assert dl.content == minutes

    # ---- draft: the member creates, edits and submits (the submission gate wants the need first).
    created = api.call("POST", "/cases", member, 201, json={
        "title": "Mötesplats Resan", "department_id": w.dep.id, "target_group": "Äldre över 70 år i Norrby",
        "own_contribution_in_kind": "Ideella värdar och lokal", "volunteer_hours": 900, "requested_amount_sek": 400_000})
    case_id = created.json()["id"]
    body = problem(client.post(f"/api/v1/cases/{case_id}/submit", headers=auth(member)), 409)
    assert body["type"].endswith("/gate-failed") and error_fields(body) == {"need"}
    api.call("PATCH", f"/cases/{case_id}", member, 200, json={"need": "Många äldre är ofrivilligt ensamma."},
             headers={"If-Match": created.headers["etag"]})
    submitted = api.call("POST", f"/cases/{case_id}/submit", member, 200).json()
    assert submitted["stage"] == "identify_need" and submitted["diarienummer"].startswith(f"{w.dep.diarie_prefix} ")

    # ---- identify_need → dialogue: complete proposal and an assigned officer.
    api.gate_refuses(case_id, w.officer, {"planned_activities", "period", "officer_id"})
    api.call("POST", f"/cases/{case_id}/assign", w.officer, 200, json={"officer_id": w.officer.id})
    api.gate_refuses(case_id, w.officer, {"planned_activities", "period"})
    api.call("PATCH", f"/cases/{case_id}", w.officer, 200, headers={"If-Match": api.etag(case_id, w.officer)},
             json={"planned_activities": "Träffpunkt tre dagar i veckan", "period_start": "2027-01-01", "period_end": "2028-12-31"})
    # The approver asks the organisation to complete the proposal; the organisation edits and resubmits.
    review = api.call("POST", f"/cases/{case_id}/reviews", w.officer, 201, json={"comment": "Klart för dialog?"}).json()
    api.call("POST", f"/cases/{case_id}/reviews/{review['id']}/decision", w.approver, 200,
             json={"decision": "changes_requested", "motivation": "Beskriv hur deltagarna nås."})
    api.call("PATCH", f"/cases/{case_id}", member, 200, headers={"If-Match": api.etag(case_id, member)},
             json={"planned_activities": "Träffpunkt tre dagar i veckan; uppsökande via vårdcentralen"})
    api.call("POST", f"/cases/{case_id}/submit", member, 200)
    api.review_passes(case_id, w.officer, w.approver, "dialogue")

    # ---- the thread: an open message quoting the contact, and an internal note the organisation never sees.
    api.call("POST", f"/cases/{case_id}/messages", member, 201,
             json={"body": f"Frågor om verksamheten: {CONTACT['name']}, {CONTACT['email']}, tel {CONTACT['phone']}."})
    note = api.call("POST", f"/cases/{case_id}/messages", w.officer, 201,
                    json={"body": "Intern notering: kontrollera föreningens årsredovisning.", "internal": True}).json()
    problem(client.post(f"/api/v1/cases/{case_id}/messages", json={"body": "x", "internal": True}, headers=auth(member)), 422)
    seen_by_member = api.call("GET", f"/cases/{case_id}/messages", member, 200).json()["items"]
    assert note["id"] not in [m["id"] for m in seen_by_member] and len(seen_by_member) == 1
    problem(client.get(f"/api/v1/cases/{case_id}/messages/{note['id']}", headers=auth(member)), 404)
    assert "årsredovisning" not in api.call("GET", f"/cases/{case_id}/timeline", member, 200).text
    assert "årsredovisning" in api.call("GET", f"/cases/{case_id}/timeline", w.officer, 200).text

    # ---- dialogue → agreement: a meeting, a complete checklist (every item yes), de minimis within the ceiling.
    api.gate_refuses(case_id, w.officer, {"dialogue_meetings", "suitability"})
    api.call("POST", f"/cases/{case_id}/meetings", w.officer, 201, json={
        "held_on": "2026-10-05", "place": "Stadshuset", "participants": [{"name": w.officer.full_name, "organisation": "Kommunen"},
                                                                         {"name": "Olle Ordförande", "organisation": org["name"]}],
        "notes": "Behovet bekräftat gemensamt.", "next_steps": "Utkast till överenskommelse"})
    answers = {i.key: {"answer": "yes"} for i in ITEMS}
    answers["not_procurement"] = {"answer": "unclear", "comment": "Stäm av med upphandlingsenheten"}
    api.call("PUT", f"/cases/{case_id}/suitability", w.officer, 200, json={"items": answers})
    api.gate_refuses(case_id, w.officer, {"suitability.not_procurement"})
    answers["not_procurement"] = {"answer": "yes", "comment": "Ingen marknad; verksamheten är föreningens egen"}
    assert api.call("PUT", f"/cases/{case_id}/suitability", w.officer, 200, json={"items": answers}).json()["complete"] is True
    assert api.call("GET", f"/cases/{case_id}/de-minimis", w.officer, 200).json()["passes"] is True
    api.review_passes(case_id, w.officer, w.approver2, "agreement")

    # ---- agreement → follow_up: terms, a generated document, both signatures, the signed copy, within delegation.
    api.gate_refuses(case_id, w.officer, {"agreement", "agreement_document", "signatures.public", "signatures.organisation"})
    terms = terms_payload(org["name"], org["orgnr"], 400_000)
    bad = {**terms, "instalments": [{"due_on": "2027-01-15", "amount_sek": 150_000}, {"due_on": "2027-07-15", "amount_sek": 150_000}]}
    body = problem(client.put(f"/api/v1/cases/{case_id}/agreement", json=bad, headers=auth(w.officer)), 422)
    assert "instalments" in error_fields(body) and "300000" in body["detail"] + str(body["errors"]).replace(" ", "")
    api.call("PUT", f"/cases/{case_id}/agreement", w.officer, 200, json=terms)
    api.gate_refuses(case_id, w.officer, {"agreement_document", "signatures.public", "signatures.organisation"})
    doc = api.call("POST", f"/cases/{case_id}/documents/agreement/generate", w.officer, 201).json()
    assert doc["kind"] == "agreement" and doc["version"] == 1
    api.gate_refuses(case_id, w.officer, {"signatures.public", "signatures.organisation"})
    api.call("POST", f"/cases/{case_id}/signatures", w.officer, 201,
             json={"party": "public", "name": "Eva Ek", "role": "Förvaltningschef", "signed_on": TODAY})
    problem(client.post(f"/api/v1/cases/{case_id}/signatures", headers=auth(member),
                        json={"party": "public", "name": "X", "role": "Y", "signed_on": TODAY}), 403)
    api.call("POST", f"/cases/{case_id}/signatures", member, 201,
             json={"party": "organisation", "name": "Olle Ordförande", "role": "Ordförande", "signed_on": TODAY})
    api.gate_refuses(case_id, w.officer, {"signed_copy"})
    signed = api.call("POST", f"/cases/{case_id}/attachments", member, 201, data={"kind": "signed_agreement"},
                      files={"file": ("IOP-avtal undertecknat.pdf", minimal_pdf("Undertecknat avtal"), "application/pdf")}).json()
    assert signed["kind"] == "signed_agreement"
    # An approver whose delegation is below the funding cannot be the one asked.
    api.gate_refuses(case_id, w.officer, {"approver_id"}, approver_id=w.small_approver.id)
    api.review_passes(case_id, w.officer, w.approver, "follow_up", approver_id=w.approver.id)

    # ---- follow_up → closed: every scheduled report submitted and approved.
    api.gate_refuses(case_id, w.officer, {"followup_reports"})
    year = api.call("POST", f"/cases/{case_id}/followup-reports", w.officer, 201,
                    json={"period_start": "2027-01-01", "period_end": "2027-12-31", "due_on": "2028-01-31"}).json()
    final = api.call("POST", f"/cases/{case_id}/followup-reports", w.officer, 201,
                     json={"period_start": "2027-01-01", "period_end": "2028-12-31", "due_on": "2029-02-28", "is_final": True}).json()
    api.gate_refuses(case_id, w.officer, {f"followup_reports.{year['id']}", f"followup_reports.{final['id']}"})
    content = {"activities_done": "Träffpunkt 140 gånger", "participants_reached": 210, "money_used_sek": 198_000}
    for report in (year, final):
        api.call("POST", f"/cases/{case_id}/followup-reports/{report['id']}/submit", member, 200, json=content)
    api.call("POST", f"/cases/{case_id}/followup-reports/{year['id']}/assessment", w.officer, 200, json={"assessment": "approved"})
    api.call("POST", f"/cases/{case_id}/followup-reports/{final['id']}/assessment", w.officer, 200,
             json={"assessment": "needs_completion", "comment": "Bifoga den ekonomiska redovisningen"})
    api.gate_refuses(case_id, w.officer, {f"followup_reports.{final['id']}"})
    api.call("POST", f"/cases/{case_id}/followup-reports/{final['id']}/submit", member, 200,
             json={**content, "deviations": "Ekonomisk redovisning bifogad"})
    api.call("POST", f"/cases/{case_id}/followup-reports/{final['id']}/assessment", w.officer, 200, json={"assessment": "approved"})
    api.review_passes(case_id, w.officer, w.approver2, "closed")

    # The organisation's timeline tells the whole story, without the internal note.
    story = api.call("GET", f"/cases/{case_id}/timeline", member, 200).json()
    titles = [i["title"] for i in story]
    assert titles[0] == "Utkast skapat" and titles.index("Ärendet skickades in") < titles.index("Ärendet gick till skedet Avslutat")
    assert {"Handläggare tilldelad", "Överenskommelsens villkor sparades"} <= set(titles)
    assert {"review_decided", "meeting_recorded", "signature_recorded", "followup_assessed", "document_stored"} <= {i["type"] for i in story}
    assert not any(i["internal"] for i in story)
    assert api.call("GET", f"/cases/{case_id}/audit/verify", w.registrar, 200).json()["valid"] is True

    # ---- a second case of the same organisation would pass the de minimis ceiling (300 000 euro at 11.5 SEK/EUR).
    second = api.call("POST", "/cases", member, 201, json={
        "title": "Resan växer", "department_id": w.dep.id, "need": "Fler vill delta", "target_group": "Äldre",
        "planned_activities": "Fler träffar", "volunteer_hours": 500, "requested_amount_sek": 3_200_000,
        "period_start": "2027-06-01", "period_end": "2028-05-31"}).json()
    api.call("POST", f"/cases/{second['id']}/submit", member, 200)
    api.call("POST", f"/cases/{second['id']}/assign", w.officer, 200, json={"officer_id": w.officer2.id})
    api.review_passes(second["id"], w.officer2, w.approver2, "dialogue")
    api.call("POST", f"/cases/{second['id']}/meetings", w.officer2, 201, json={"held_on": "2026-11-02", "participants": [{"name": "Olle Ordförande"}]})
    api.call("PUT", f"/cases/{second['id']}/suitability", w.officer2, 200, json={"items": {i.key: {"answer": "yes"} for i in ITEMS}})
    calc = api.call("GET", f"/cases/{second['id']}/de-minimis", w.officer2, 200).json()
    assert calc["total_sek"] == 3_600_000 and calc["passes"] is False and [ln["case_id"] for ln in calc["lines"]] == [case_id, second["id"]]
    api.gate_refuses(second["id"], w.officer2, {"de_minimis"})

    # ---- GDPR: the registrar erases the contact person; no API answer still carries their data.
    export = api.call("GET", f"/organisations/{org['id']}/contacts/{contact_id}/export", w.registrar, 200).json()
    assert export["contact"]["email"] == CONTACT["email"]
    assert {o["source"] for o in export["appears_in"]} == {"contact_persons", "audit_events", "messages"}
    assert all(not o["fields"] for o in export["appears_in"] if o["source"] == "audit_events")  # ids only, never the data
    api.call("POST", f"/organisations/{org['id']}/contacts/{contact_id}/erase", w.registrar, 200)
    readers = (member, w.officer, w.registrar)
    paths = [f"/organisations/{org['id']}", "/organisations", f"/organisations/{org['id']}/contacts?include_erased=true",
             f"/organisations/{org['id']}/contacts/{contact_id}/export", f"/organisations/{org['id']}/overenskommelse"]
    for cid in (case_id, second["id"]):
        paths += [f"/cases/{cid}", f"/cases/{cid}/timeline", f"/cases/{cid}/messages", f"/cases/{cid}/meetings",
                  f"/cases/{cid}/signatures", f"/cases/{cid}/reviews", f"/cases/{cid}/documents", f"/cases/{cid}/followup-reports"]
    scanned = 0
    for path in paths:
        for who in readers:
            r = client.get(f"/api/v1{path}", headers=auth(who))
            if r.status_code in (403, 404) and who is not w.registrar:
                continue  # not this reader's to see (export and audit are for some roles only)
            assert r.status_code == 200, (path, who.role, r.text)
            text = r.text.lower()
            for needle in CONTACT_NEEDLES:
                assert needle not in text, f"{needle!r} still in {path} as {who.role}"
            scanned += 1
    for path in (f"/organisations/{org['id']}/audit", f"/cases/{case_id}/audit", f"/cases/{second['id']}/audit"):
        text = api.call("GET", path, w.registrar, 200).text.lower()
        assert not [n for n in CONTACT_NEEDLES if n in text], path
    assert scanned >= 50
    thread = api.call("GET", f"/cases/{case_id}/messages", w.registrar, 200).json()["items"]
    assert f"Raderad kontakt #{contact_id}" in thread[0]["body"]
    assert api.call("GET", f"/organisations/{org['id']}/audit/verify", w.registrar, 200).json()["valid"] is True
    assert api.call("GET", f"/cases/{case_id}/audit/verify", w.registrar, 200).json()["valid"] is True
