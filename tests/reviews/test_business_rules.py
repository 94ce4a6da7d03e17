"""Rules that must hold at every step (issue 20): de minimis and the amount rule again at each decision, signature
evidence, reviews nobody can decide, reports before their period."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import World, auth, case, department, user
from gates_setup import add_document, terms_payload
from helpers import error_fields, problem
from sqlalchemy import select

from service.agreements.models import Agreement, Party, Signature
from service.agreements.schemas import AgreementTerms
from service.audit.models import AuditEvent
from service.auth.models import Role
from service.cases.stages import Stage
from service.documents.models import DocumentKind
from service.followup.models import FollowUpReport

# Signatures are dated from the day the agreement document was drawn up (here: today, in the municipality's time zone).
TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()


def _put_terms(client, c, w, funding):  # noqa: ANN001, ANN202
    r = client.put(f"/api/v1/cases/{c.id}/agreement", json=terms_payload(w.org.name, w.org.orgnr, funding), headers=auth(w.officer))
    assert r.status_code == 200, r.text


def _signed(db, c) -> None:  # noqa: ANN001
    add_document(db, c, DocumentKind.AGREEMENT)
    signed = add_document(db, c, DocumentKind.SIGNED_AGREEMENT)
    for party, name in ((Party.PUBLIC, "Eva Ek"), (Party.ORGANISATION, "Olle Ordförande")):
        db.add(Signature(case_id=c.id, party=party, name=name, role="Firmatecknare", signed_on=date(2026, 11, 2), document_id=signed.id))
    db.flush()


def test_de_minimis_is_checked_again_when_the_agreement_funding_rises(client, db) -> None:
    """Dialogue → agreement passed at 200 000 kr; 4 000 000 kr in the agreement (347 826 EUR) must stop agreement → follow-up."""
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id, requested_amount_sek=200_000)
    _put_terms(client, c, w, 200_000)
    _put_terms(client, c, w, 4_000_000)
    _signed(db, c)
    body = problem(client.post(f"/api/v1/cases/{c.id}/reviews", json={"approver_id": w.approver2.id}, headers=auth(w.officer)), 409)
    assert error_fields(body) == {"de_minimis"}, body
    check = client.get(f"/api/v1/cases/{c.id}/de-minimis", headers=auth(w.officer)).json()
    assert check["passes"] is False  # the same figure the gate used
    changed = [e.after["funding_changed"] for e in db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id)) if "funding_changed" in (e.after or {})]
    assert changed == [{"from": 200_000, "to": 4_000_000, "stage": "agreement"}]
    # Within the ceiling again (another basis for the aid is not given here): the gate opens.
    db.execute(Agreement.__table__.update().where(Agreement.case_id == c.id).values(funding_amount_sek=300_000))
    add_document(db, c, DocumentKind.AGREEMENT)  # drawn up again from the changed terms
    r = client.post(f"/api/v1/cases/{c.id}/reviews", json={"approver_id": w.approver2.id}, headers=auth(w.officer))
    assert r.status_code == 201, r.text


def test_an_approval_rechecks_the_figures_at_decision_time(client, db) -> None:
    """A review requested within the ceiling is refused at decision when another case of the organisation has since been granted."""
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id, requested_amount_sek=300_000)
    _put_terms(client, c, w, 300_000)
    _signed(db, c)
    rid = client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).json()["id"]
    other = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id, requested_amount_sek=3_200_000)
    assert other.id
    r = client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": "approve", "motivation": ""}, headers=auth(w.approver))
    assert error_fields(problem(r, 409)) == {"de_minimis"}


def test_signature_evidence_is_the_signed_agreement_of_the_current_version(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    _put_terms(client, c, w, 400_000)
    url = f"/api/v1/cases/{c.id}/signatures"
    sig = {"party": "public", "name": "Eva Ek", "role": "Förvaltningschef", "signed_on": TODAY}
    assert "Skapa avtalsdokumentet" in problem(client.post(url, json=sig, headers=auth(w.officer)), 409)["detail"]  # nothing to sign yet
    add_document(db, c, DocumentKind.AGREEMENT)
    minutes = add_document(db, c, DocumentKind.DIALOGUE_MINUTES)
    png = add_document(db, c, DocumentKind.ATTACHMENT)
    for wrong in (minutes, png):
        body = problem(client.post(url, json={**sig, "document_id": wrong.id}, headers=auth(w.officer)), 422)
        assert error_fields(body) == {"document_id"}
    body = problem(client.post(url, json={**sig, "method": "e_signature"}, headers=auth(w.officer)), 422)
    assert error_fields(body) == {"document_id"}  # an e-signature without the signed file proves nothing
    old_copy = add_document(db, c, DocumentKind.SIGNED_AGREEMENT)
    add_document(db, c, DocumentKind.AGREEMENT)  # a new version was drawn up after that copy was signed
    assert error_fields(problem(client.post(url, json={**sig, "document_id": old_copy.id}, headers=auth(w.officer)), 422)) == {"document_id"}
    future = (date.today() + timedelta(days=30)).isoformat()
    assert error_fields(problem(client.post(url, json={**sig, "signed_on": future}, headers=auth(w.officer)), 422)) == {"signed_on"}
    copy = add_document(db, c, DocumentKind.SIGNED_AGREEMENT)
    r = client.post(url, json={**sig, "method": "e_signature", "document_id": copy.id}, headers=auth(w.officer))
    assert r.status_code == 201, r.text


def test_terminate_uses_the_agreement_funding_like_every_decision(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id, requested_amount_sek=800_000)
    terms = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr, 2_000_000))
    db.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=2_000_000,
                     period_start=terms.period_start, period_end=terms.period_end))
    db.flush()
    url = f"/api/v1/cases/{c.id}/terminate"
    body = problem(client.post(url, json={"reason": "Verksamheten har upphört"}, headers=auth(w.approver)), 403)  # 1 MSEK limit
    assert body["amount_sek"] == 2_000_000 and body["delegated_limit_sek"] == 1_000_000
    assert client.post(url, json={"reason": "Verksamheten har upphört"}, headers=auth(w.approver2)).json()["stage"] == "closed"


def test_reviews_nobody_can_decide_are_refused_at_request(client, db) -> None:
    w = World(db)
    url = lambda c: f"/api/v1/cases/{c.id}/reviews"  # noqa: E731
    too_big = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id, requested_amount_sek=9_000_000)
    body = problem(client.post(url(too_big), json={}, headers=auth(w.officer)), 409)
    assert body["amount_sek"] == 9_000_000 and "Ingen beslutsfattare" in body["detail"]  # above every limit (5 MSEK)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id, requested_amount_sek=400_000)
    body = problem(client.post(url(c), json={"approver_id": w.approver.id}, headers=auth(w.approver)), 422)
    assert error_fields(body) == {"approver_id"} and "Fyraögon" in body["errors"][0]["message"]
    lonely = department(db)
    officer = user(db, Role.OFFICER, department=lonely)
    nobody = case(db, w.org, lonely, stage=Stage.IDENTIFY_NEED, officer_id=officer.id, requested_amount_sek=10_000)
    problem(client.post(url(nobody), json={}, headers=auth(officer)), 409)  # a department without approvers
    # A deactivated approver decides nothing either.
    db.execute(w.approver2.__table__.update().where(w.approver2.__table__.c.id == w.approver2.id).values(is_active=False))
    db.expire_all()
    mid = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id, requested_amount_sek=2_000_000)
    problem(client.post(url(mid), json={}, headers=auth(w.officer)), 409)


def test_a_pending_review_can_be_reassigned(client, db, smtp_server) -> None:  # noqa: ARG001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id, requested_amount_sek=400_000)
    rid = client.post(f"/api/v1/cases/{c.id}/reviews", json={"approver_id": w.approver.id}, headers=auth(w.officer)).json()["id"]
    assign = f"/api/v1/cases/{c.id}/reviews/{rid}/assign"
    assert error_fields(problem(client.post(assign, json={"approver_id": w.small_approver.id}, headers=auth(w.officer2)), 409)) == {"approver_id"}
    r = client.post(assign, json={"approver_id": w.approver2.id}, headers=auth(w.officer2))
    assert r.status_code == 200 and r.json()["approver_id"] == w.approver2.id
    decide = f"/api/v1/cases/{c.id}/reviews/{rid}/decision"
    problem(client.post(decide, json={"decision": "approve"}, headers=auth(w.approver)), 403)  # no longer theirs
    assert client.post(decide, json={"decision": "approve"}, headers=auth(w.approver2)).json()["status"] == "approved"
    problem(client.post(assign, json={"approver_id": None}, headers=auth(w.officer)), 409)  # decided: nothing to move
    audit = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id))]
    assert "review.reassigned" in audit


@pytest.mark.real_clock
def test_a_report_cannot_be_submitted_before_its_period_begins(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id)
    begins = date.today() + timedelta(days=40)
    later = FollowUpReport(case_id=c.id, period_start=begins, period_end=begins + timedelta(days=200), due_on=begins + timedelta(days=230))
    now = FollowUpReport(case_id=c.id, period_start=date.today() - timedelta(days=100), period_end=date.today() + timedelta(days=100),
                         due_on=date.today() + timedelta(days=130))
    db.add_all([later, now])
    db.flush()
    report = {"activities_done": "Träffar varje vecka", "participants_reached": 12, "money_used_sek": 1000}
    body = problem(client.post(f"/api/v1/cases/{c.id}/followup-reports/{later.id}/submit", json=report, headers=auth(w.member)), 409)
    assert body["period_start"] == begins.isoformat()
    assert db.get(FollowUpReport, later.id).submitted_at is None
    assert client.post(f"/api/v1/cases/{c.id}/followup-reports/{now.id}/submit", json=report, headers=auth(w.member)).status_code == 200


def test_agreement_dates_within_its_period(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    terms = terms_payload(w.org.name, w.org.orgnr)
    early = {**terms, "instalments": [{**terms["instalments"][0], "due_on": "2026-06-30"}, terms["instalments"][1]]}
    late_report = {**terms, "followup_schedule": [*terms["followup_schedule"][:-1], {**terms["followup_schedule"][-1], "due_on": "2031-01-31"}]}
    for bad, where in ((early, "instalments.0.due_on"), (late_report, "followup_schedule.1.due_on")):
        body = problem(client.put(f"/api/v1/cases/{c.id}/agreement", json=bad, headers=auth(w.officer)), 422)
        assert where in str(body["errors"]), body
    assert db.scalar(select(Agreement).where(Agreement.case_id == c.id)) is None  # nothing half-saved


def test_an_internal_review_comment_stays_with_the_administration(client, db) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    body = {"comment": "Föreningens ekonomi är svag, se revisionen", "comment_internal": True}
    assert client.post(f"/api/v1/cases/{c.id}/reviews", json=body, headers=auth(w.officer)).status_code == 201
    for who, shown in ((w.member, ""), (w.officer, body["comment"]), (w.registrar, body["comment"])):
        reviews = client.get(f"/api/v1/cases/{c.id}/reviews", headers=auth(who)).json()
        assert [r["comment"] for r in reviews] == [shown], who.role
        items = client.get(f"/api/v1/cases/{c.id}/timeline", headers=auth(who)).json()
        assert [i["detail"] for i in items if i["type"] == "review_requested"] == [shown], who.role
