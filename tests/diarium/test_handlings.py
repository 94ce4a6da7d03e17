"""Every kind of handling gets its diary entry where the domain function creates it: the proposal on submission and its
completion, a request for completion, a withdrawal, a termination, follow-up reports and their assessment, the e-signed
agreement (documents, messages and review decisions: test_diarium.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from factories import World, auth, case, user
from gates_setup import terms_payload
from sqlalchemy import select

from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.auth.models import Role
from service.cases.stages import Stage
from service.diarium.models import DiaryEntry
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.documents.pdfa import pdfa_available
from service.followup.models import FollowUpReport


def _entries(db, c) -> list[tuple[str, str, str, str]]:  # noqa: ANN001
    db.expire_all()
    rows = db.scalars(select(DiaryEntry).where(DiaryEntry.case_id == c.id).order_by(DiaryEntry.number))
    return [(e.direction, e.document_type, e.description, e.counterpart) for e in rows]


def _ok(r) -> dict:  # noqa: ANN001
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_submission_completion_and_withdrawal_are_registered(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, title="Läxhjälp i Norrby")
    _ok(client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member)))
    db.refresh(c)
    assert _entries(db, c) == [("inkommande", "Ansökan", "Ansökan om idéburet offentligt partnerskap: Läxhjälp i Norrby", w.org.name)]
    first = db.scalars(select(DiaryEntry).where(DiaryEntry.case_id == c.id)).one()
    assert (first.number, first.internal, first.confidential) == (1, False, False)
    _ok(client.post(f"/api/v1/cases/{c.id}/assign", json={"officer_id": w.officer.id}, headers=auth(w.officer)))
    _ok(client.post(f"/api/v1/cases/{c.id}/request-completion", json={"message": "Beskriv lokalen."}, headers=auth(w.officer)))
    _ok(client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member)))
    _ok(client.post(f"/api/v1/cases/{c.id}/withdraw", json={"reason": "Vi har inte längre lokalen."}, headers=auth(w.member)))
    assert _entries(db, c)[1:] == [
        ("utgående", "Begäran om komplettering", "Begäran om komplettering av ansökan", w.org.name),
        ("inkommande", "Ansökan", "Komplettering av ansökan", w.org.name),
        ("inkommande", "Återkallelse", "Återkallelse av ansökan", w.org.name)]
    # The reason and the request's text stay in the case (erasable), not in the diarium.
    assert not any("lokalen" in d for _, _, d, _ in _entries(db, c))
    # A refused submission registers nothing.
    assert client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member)).status_code == 409
    assert len(_entries(db, c)) == 4


def test_followup_reports_assessment_and_termination_are_registered(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id)
    db.add(Agreement(case_id=c.id, terms={}, funding_amount_sek=400_000, period_start=date(2025, 1, 1), period_end=date(2027, 12, 31)))
    start = date.today() - timedelta(days=200)
    report = FollowUpReport(case_id=c.id, period_start=start, period_end=start + timedelta(days=100), due_on=date.today() + timedelta(days=30))
    db.add(report)
    db.flush()
    base = f"/api/v1/cases/{c.id}/followup-reports/{report.id}"
    content = {"activities_done": "Tolv träffar.", "participants_reached": 40, "money_used_sek": 90_000}
    _ok(client.post(f"{base}/submit", json=content, headers=auth(w.member)))
    _ok(client.post(f"{base}/assessment", json={"assessment": "needs_completion", "comment": "Redovisa kostnaderna."},
                    headers=auth(w.officer)))
    _ok(client.post(f"{base}/submit", json=content, headers=auth(w.member)))
    _ok(client.post(f"{base}/assessment", json={"assessment": "approved"}, headers=auth(w.officer)))
    _ok(client.post(f"/api/v1/cases/{c.id}/terminate", json={"reason": "Verksamheten har upphört."}, headers=auth(w.approver)))
    period = f"{report.period_start.isoformat()} – {report.period_end.isoformat()}"
    assert _entries(db, c) == [
        ("inkommande", "Uppföljningsrapport", f"Uppföljningsrapport för perioden {period}", w.org.name),
        ("upprättad", "Tjänsteanteckning", f"Bedömning av uppföljningsrapport för perioden {period}: komplettering begärd", ""),
        ("inkommande", "Uppföljningsrapport", f"Komplettering av uppföljningsrapport för perioden {period}", w.org.name),
        ("upprättad", "Tjänsteanteckning", f"Bedömning av uppföljningsrapport för perioden {period}: godkänd", ""),
        ("upprättad", "Beslut", "Beslut om förtida avslut av partnerskapet", "")]


@pytest.mark.skipif(not pdfa_available(), reason="LibreOffice (soffice) is needed for the agreement's PDF/A")
def test_e_signed_agreement_is_registered_once_when_every_party_has_signed(db, store, tmp_path) -> None:  # noqa: ANN001
    from signing_setup import signing_settings

    from service.signing import service as signing
    from service.signing.keys import make_test_pki

    settings = signing_settings(make_test_pki(tmp_path / "pki", password="test-signing"))
    w = World(db)
    olle = user(db, Role.ORG_MEMBER, organisation=w.org, full_name="Olle Ordförande")
    eva = user(db, Role.APPROVER, department=w.dep, full_name="Eva Ek", delegated_limit_sek=1_000_000)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    terms = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
    db.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                     period_start=terms.period_start, period_end=terms.period_end))
    db.flush()
    documents.generate(db, store, w.officer, c, DocumentKind.AGREEMENT, settings=settings)
    order = signing.invite(db, store, w.officer, c, [("organisation", olle.id), ("public", eva.id)], settings)
    signing.sign(db, store, olle, c, order.id, settings)
    before = _entries(db, c)
    assert [t for _, t, _, _ in before] == ["Avtal"]  # the generated agreement; its PDF for signing and half-signed copy are not new
    inv = signing.sign(db, store, eva, c, order.id, settings)
    entries = db.scalars(select(DiaryEntry).where(DiaryEntry.case_id == c.id).order_by(DiaryEntry.number)).all()
    assert len(entries) == 2
    signed = entries[1]
    assert (signed.direction, signed.document_type, signed.counterpart, signed.document_id) == (
        "upprättad", "Undertecknat avtal", w.org.name, inv.signed_document_id)
    assert signed.description.startswith("Undertecknat avtal (e-underskrift av alla parter)")


def test_uploaded_signed_agreement_is_registered_as_incoming(client, db, store) -> None:
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    _ok(client.post(f"/api/v1/cases/{c.id}/attachments", files={"file": ("avtal.pdf", pdf, "application/pdf")},
                    data={"kind": "signed_agreement"}, headers=auth(w.member)))
    ((direction, kind, _, counterpart),) = _entries(db, c)
    assert (direction, kind, counterpart) == ("inkommande", "Undertecknat avtal", w.org.name)

