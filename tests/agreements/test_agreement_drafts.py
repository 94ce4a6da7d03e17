"""Agreement terms saved half-filled (PATCH, a merge patch checked for format only), completeness reported by Swedish
label and section, and the one completeness rule at marking ready, generating the document and the agreement gate."""

from __future__ import annotations

from factories import World, auth, case
from gates_setup import terms_payload
from helpers import error_fields, problem
from sqlalchemy import select

from service.agreements import completeness
from service.agreements.models import Agreement
from service.agreements.schemas import STANDARD_CLAUSES
from service.audit.models import AuditEvent
from service.cases.stages import Stage

HALF = {
    "public_party": {"name": "Exempelstads kommun", "orgnr": "212000-0142"},
    "background": "Behovet togs fram i dialogen.",
    "period_start": "2027-01-01",
    "instalments": [{"due_on": "2027-02-01"}],
}


def _url(c) -> str:  # noqa: ANN001
    return f"/api/v1/cases/{c.id}/agreement"


def test_a_half_filled_draft_is_saved_and_round_trips_with_what_is_missing(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    r = client.patch(_url(c), json=HALF, headers={**auth(w.officer), "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["complete"] is False and r.headers["etag"] == f'"{body["version"]}"'
    assert body["terms"]["background"] == HALF["background"] and body["terms"]["instalments"] == [{"due_on": "2027-02-01"}]
    assert body["terms"]["principles"]  # a new draft starts from the standard clauses
    missing = {m["field"]: m for m in body["missing"]}
    # What was given is not missing; what was not is, named as the form names it.
    assert "background" not in missing and "public_party.name" not in missing and "period_start" not in missing
    assert missing["public_party.signatory_name"]["label"] == "Kommunen eller regionen – Firmatecknare"
    assert missing["instalments.0.amount_sek"]["label"] == "Utbetalning 1 – Belopp (kronor)"
    assert missing["governance"]["label"] == "Styrgrupp och arbetsgrupp" and missing["governance"]["section"] == "uppfoljning"
    sections = {s["key"]: s for s in body["sections"]}
    assert list(sections) == ["parter", "verksamhet", "mal", "period", "utbetalningar", "uppfoljning", "ovrigt"]
    assert sections["ovrigt"]["complete"] is True and sections["parter"]["complete"] is False
    assert sections["parter"]["missing"] == sum(1 for m in body["missing"] if m["section"] == "parter") == 6
    got = client.get(_url(c), headers=auth(w.officer)).json()
    assert got["terms"] == body["terms"] and got["missing"] == body["missing"]

    # A merge patch: a later save keeps what it leaves out, null empties a field.
    r = client.patch(_url(c), json={"purpose": "Minska ensamhet.", "background": None}, headers={**auth(w.officer), "If-Match": r.headers["etag"]})
    assert r.status_code == 200, r.text
    terms = r.json()["terms"]
    assert terms["purpose"] == "Minska ensamhet." and "background" not in terms and terms["period_start"] == "2027-01-01"
    assert "background" in {m["field"] for m in r.json()["missing"]}
    saved = db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "agreement.terms_saved")).all()
    assert [e.after["complete"] for e in saved] == [False, False]


def test_a_draft_is_checked_for_format_only_and_a_stale_one_is_refused(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    bad = {"period_start": "2027-13-01", "public_party": {"orgnr": "123"}, "instalments": [{"amount_sek": -5}]}
    body = problem(client.patch(_url(c), json=bad, headers=auth(w.officer)), 422)
    assert error_fields(body) == {"period_start", "public_party.orgnr", "instalments.0.amount_sek"}
    other = db.get(type(w.org), w.other_org.id)
    body = problem(client.patch(_url(c), json={"organisation_party": {"orgnr": other.orgnr}}, headers=auth(w.officer)), 422)
    assert error_fields(body) == {"organisation_party.orgnr"}  # the case's organisation, even in a draft
    assert db.scalar(select(Agreement).where(Agreement.case_id == c.id)) is None  # nothing half-written
    assert client.patch(_url(c), json=HALF, headers=auth(w.officer)).status_code == 200
    problem(client.patch(_url(c), json={"purpose": "x"}, headers={**auth(w.officer), "If-Match": '"0"'}), 409)
    problem(client.patch(_url(c), json={"purpose": "x"}, headers=auth(w.member)), 403)
    assert "purpose" not in db.scalar(select(Agreement).where(Agreement.case_id == c.id)).terms


def test_marking_ready_lists_every_missing_item_and_saves_nothing(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    version = client.patch(_url(c), json=HALF, headers=auth(w.officer)).json()["version"]
    body = problem(client.patch(f"{_url(c)}?ready=true", json={"purpose": "Minska ensamhet."}, headers=auth(w.officer)), 422)
    listed = {e["field"]: e for e in body["errors"]}
    assert set(listed) == {m.field for m in completeness.missing({**db.scalar(select(Agreement).where(Agreement.case_id == c.id)).terms,
                                                                    "purpose": "Minska ensamhet."})}
    assert {"public_party.signatory_name", "organisation_party.name", "goals", "period_end", "funding_amount_sek",
            "contributions", "instalments.0.amount_sek", "notice_period_months", "followup_schedule"} <= set(listed)
    assert listed["goals"]["message"] == "Mål: skriv minst ett mål." and listed["goals"]["label"] == "Mål"
    assert "Utbetalning 1 – Belopp (kronor)" in body["detail"]
    stored = db.scalar(select(Agreement).where(Agreement.case_id == c.id))
    db.refresh(stored)
    assert stored.version == version and "purpose" not in stored.terms
    # Complete terms marked ready are stored complete.
    full = terms_payload(w.org.name, w.org.orgnr)
    r = client.patch(f"{_url(c)}?ready=true", json=full, headers=auth(w.officer))
    assert r.status_code == 200 and r.json()["complete"] is True and r.json()["missing"] == [], r.text
    assert all(s["complete"] for s in r.json()["sections"])


def test_cross_checks_are_listed_with_the_missing_fields() -> None:
    """A payment outside the period and a wrong sum are reported at once with what is missing, by label."""
    terms = {**terms_payload("Föreningen", "212000-0142"), **STANDARD_CLAUSES}  # as stored: new terms start with the clauses
    del terms["governance"]
    terms["instalments"][0]["due_on"] = "2026-06-30"
    terms["instalments"][1]["amount_sek"] = 1
    items = {m.field: m for m in completeness.missing(terms)}
    assert set(items) == {"governance", "instalments", "instalments.0.due_on"}
    assert items["instalments"].message.startswith("Utbetalningarna summerar till 200001 kr")
    assert items["instalments.0.due_on"].label == "Utbetalning 1 – Datum" and "utanför avtalsperioden" in items["instalments.0.due_on"].message
    period = {**terms_payload("F", "212000-0142"), **STANDARD_CLAUSES, "period_end": "2026-01-01"}
    assert [m.label for m in completeness.missing(period)][0] == "Avtalet gäller till"
    assert "period_end" not in completeness.missing(period)[0].message  # no internal names in messages


def test_the_document_and_the_gate_ask_the_same_rule(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    client.patch(_url(c), json=HALF, headers=auth(w.officer))
    body = problem(client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer)), 409)
    terms = db.scalar(select(Agreement).where(Agreement.case_id == c.id)).terms
    assert error_fields(body) == {m.field for m in completeness.missing(terms)}
    gate = problem(client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)), 409)
    assert {f"agreement.{m.field}" for m in completeness.missing(terms)} <= error_fields(gate)
    assert any(e["message"] == "Avtalsvillkor, Styrgrupp och arbetsgrupp: fyll i fältet." for e in gate["errors"])
    # Once complete (PUT replaces the draft), both pass the terms.
    assert client.put(_url(c), json=terms_payload(w.org.name, w.org.orgnr), headers=auth(w.officer)).status_code == 200
    assert client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer)).status_code == 201
    gate = problem(client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)), 409)
    assert not {f for f in error_fields(gate) if f.startswith("agreement.")}
