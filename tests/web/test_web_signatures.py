"""Signatures: dated not before the current agreement document was drawn up and not in the future; corrected or removed
with audit before the agreement enters into force (never while the decision is pending); the approver sees them on the
decision page; the corrections in the case history."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from factories import World, auth, case
from gates_setup import add_document, terms_payload
from helpers import error_fields, problem
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_web_forms import Browserless, web  # noqa: F401

from service.agreements.models import Signature
from service.audit.models import AuditEvent
from service.cases.stages import Stage
from service.documents.models import DocumentKind

TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()


def _agreement_case(client, db, w):  # noqa: ANN001, ANN202
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    r = client.put(f"/api/v1/cases/{c.id}/agreement", json=terms_payload(w.org.name, w.org.orgnr), headers=auth(w.officer))
    assert r.status_code == 200, r.text
    add_document(db, c, DocumentKind.AGREEMENT)
    return c


def test_dates_are_checked_against_the_agreement_and_signatures_can_be_corrected(client, db: Session) -> None:
    w = World(db)
    c = _agreement_case(client, db, w)
    url = f"/api/v1/cases/{c.id}/signatures"
    sig = {"party": "organisation", "name": "Olle Ordförande", "role": "Ordförande"}
    for wrong in ("2020-01-01", (TODAY - timedelta(days=1)).isoformat(), (TODAY + timedelta(days=1)).isoformat(), "2027-12-31"):
        body = problem(client.post(url, json={**sig, "signed_on": wrong}, headers=auth(w.member)), 422)
        assert error_fields(body) == {"signed_on"}, wrong
    assert "upprättades" in problem(client.post(url, json={**sig, "signed_on": "2020-01-01"}, headers=auth(w.member)), 422)["errors"][0]["message"]
    ours = client.post(url, json={**sig, "signed_on": TODAY.isoformat()}, headers=auth(w.member))
    assert ours.status_code == 201, ours.text
    theirs = client.post(url, json={"party": "public", "name": "Eva Ek", "role": "Förvaltningschef", "signed_on": TODAY.isoformat()},
                         headers=auth(w.officer)).json()

    one = f"{url}/{ours.json()['id']}"
    # The organisation corrects its own signature, not the municipality's; the party cannot change; the date rule holds.
    problem(client.put(f"{url}/{theirs['id']}", json={**theirs, "role": "X"}, headers=auth(w.member)), 403)
    assert error_fields(problem(client.put(one, json={**sig, "party": "public", "signed_on": TODAY.isoformat()}, headers=auth(w.officer)), 422)) == {"party"}
    assert error_fields(problem(client.put(one, json={**sig, "signed_on": "2020-01-01"}, headers=auth(w.member)), 422)) == {"signed_on"}
    r = client.put(one, json={**sig, "name": "Olle Ordförandesson", "signed_on": TODAY.isoformat()}, headers=auth(w.member))
    assert r.status_code == 200 and r.json()["name"] == "Olle Ordförandesson", r.text
    problem(client.put(f"{url}/999999", json={**sig, "signed_on": TODAY.isoformat()}, headers=auth(w.officer)), 404)
    problem(client.put(one, json={**sig, "signed_on": TODAY.isoformat()}, headers=auth(w.other_member)), 404)
    # Removal by the officer; the organisation can record it again.
    assert client.delete(f"{url}/{theirs['id']}", headers=auth(w.officer)).status_code == 204
    assert [s["party"] for s in client.get(url, headers=auth(w.officer)).json()] == ["organisation"]
    events = {e.action: e for e in db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id))}
    corrected, removed = events["agreement.signature_corrected"], events["agreement.signature_removed"]
    assert corrected.actor_id == w.member.id and corrected.after["signatory_changed"] is True and "Olle" not in str(corrected.after)
    assert removed.actor_id == w.officer.id and removed.before["party"] == "public"
    titles = [i["title"] for i in client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(w.member)).json()]
    assert {"Underskrift rättad för organisationen", "Underskrift borttagen för kommunen/regionen",
            "Underskrift registrerad för kommunen/regionen"} <= set(titles)


def test_locked_while_the_decision_is_pending_and_after_it(client, db: Session) -> None:
    w = World(db)
    c = _agreement_case(client, db, w)
    url = f"/api/v1/cases/{c.id}/signatures"
    signed = add_document(db, c, DocumentKind.SIGNED_AGREEMENT)
    ids = [client.post(url, json={"party": p, "name": "N N", "role": "Firmatecknare", "signed_on": TODAY.isoformat(), "document_id": signed.id},
                       headers=auth(w.officer)).json()["id"] for p in ("public", "organisation")]
    rid = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer))
    assert rid.status_code == 201, rid.text
    assert "beslut" in problem(client.delete(f"{url}/{ids[0]}", headers=auth(w.officer)), 409)["detail"]
    r = client.post(f"/api/v1/cases/{c.id}/reviews/{rid.json()['id']}/decision", json={"decision": "approve", "motivation": "Klart"},
                    headers=auth(w.approver))
    assert r.status_code == 200, r.text
    problem(client.delete(f"{url}/{ids[0]}", headers=auth(w.officer)), 409)  # in force: a signature is history now
    assert len(db.scalars(select(Signature).where(Signature.case_id == c.id)).all()) == 2


def test_the_approver_sees_the_signatures_on_the_decision_page(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    from gates_setup import satisfy_gate

    satisfy_gate(db, c, w)
    db.commit()
    web.login(w.officer)
    page = web.get(f"/arenden/{c.id}").text
    sig = db.scalars(select(Signature).where(Signature.case_id == c.id, Signature.party == "public")).one()
    assert f'action="/arenden/{c.id}/underskrift/{sig.id}"' in page and f'action="/arenden/{c.id}/underskrift/{sig.id}/ta-bort"' in page
    refused = web.post(f"/arenden/{c.id}/underskrift/{sig.id}", {"party": "public", "name": "Eva Ek", "role": "Förvaltningschef",
                                                                  "signed_on": "2020-01-01", "method": "signed_copy"}, expect=422).text
    assert "upprättades" in refused
    web.post(f"/arenden/{c.id}/begar-beslut", {"comment": "Klart", "version": str(c.version)})
    assert "/ta-bort" not in web.get(f"/arenden/{c.id}").text  # locked while the decision is pending
    web.login(w.approver)
    page = web.get(f"/arenden/{c.id}/beslut").text
    section = page.split("Underskrifter av överenskommelsen", 1)[1].split("</table>", 1)[0]
    assert "Eva Ek, Förvaltningschef" in section and "Olle, Ordförande" in section and "Kommunen" in section and "Organisationen" in section
