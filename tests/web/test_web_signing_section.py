"""Issue 22: the signed agreement is uploaded in the signing section (the only place its checkbox is), where it becomes the
evidence signatures name; an organisation member records, corrects and removes its own signature on the web (as the API
lets it), never the municipality's, with audit."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from factories import World, case
from gates_setup import add_document, terms_payload
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_web_forms import PDF, Browserless, web  # noqa: F401

from service.agreements.models import Agreement, Party, Signature
from service.agreements.schemas import AgreementTerms
from service.audit.models import AuditEvent
from service.cases.stages import Stage
from service.documents.models import Document, DocumentKind

TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()
CHECKBOX = re.compile(r'<input[^>]*name="kind"[^>]*value="signed_agreement"')


def _drawn_up(db: Session, w: World):  # noqa: ANN202
    """A case in the agreement stage whose complete terms are drawn up today (signatures may be recorded)."""
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    t = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
    db.add(Agreement(case_id=c.id, terms=t.model_dump(mode="json"), funding_amount_sek=t.funding_amount_sek,
                     period_start=t.period_start, period_end=t.period_end))
    db.flush()
    add_document(db, c, DocumentKind.AGREEMENT)
    db.commit()
    return c


def _section(html: str, start: str, end: str = "</section>") -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def test_the_signed_agreement_checkbox_is_in_the_signing_section_and_marks_the_evidence(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = _drawn_up(db, w)
    for person in (w.officer, w.member):
        page = Browserless(web.client).login(person).get(f"/arenden/{c.id}").text
        assert len(CHECKBOX.findall(page)) == 1, person.role
        signing = _section(page, 'id="avtal-rubrik"')
        assert CHECKBOX.search(_section(signing, f'action="/arenden/{c.id}/undertecknat-avtal"', "</form>"))
        assert not CHECKBOX.search(_section(page, f'action="/arenden/{c.id}/bilagor"', "</form>"))  # not the general upload
    officer = Browserless(web.client).login(w.officer)
    # Without the tick it is refused at the checkbox; through the general upload it is only an attachment.
    r = officer.post(f"/arenden/{c.id}/undertecknat-avtal", {}, files={"file": ("a.pdf", PDF, "application/pdf")}, expect=422)
    assert 'id="signed-kind-error"' in r.text and "Kryssa i att filen är det undertecknade avtalet" in r.text
    officer.post(f"/arenden/{c.id}/bilagor", {"kind": "signed_agreement"}, files={"file": ("bilaga.pdf", PDF, "application/pdf")})
    db.expire_all()
    assert db.scalars(select(Document.kind).where(Document.case_id == c.id, Document.filename == "bilaga.pdf")).all() == [DocumentKind.ATTACHMENT]
    r = officer.post(f"/arenden/{c.id}/undertecknat-avtal", {"kind": "signed_agreement"},
                     files={"file": ("undertecknat.pdf", PDF, "application/pdf")})
    assert r.headers["location"] == f"/arenden/{c.id}#avtal"
    db.expire_all()
    signed = db.scalars(select(Document).where(Document.case_id == c.id, Document.kind == DocumentKind.SIGNED_AGREEMENT)).one()
    page = officer.get(f"/arenden/{c.id}").text
    assert re.search(rf'<option value="{signed.id}"[^>]*>undertecknat.pdf', _section(page, 'id="avtal-rubrik"'))
    # The upload is the evidence an e-signature needs.
    officer.post(f"/arenden/{c.id}/underskrift", {"party": "public", "name": "Eva Ek", "role": "Förvaltningschef",
                                                   "signed_on": TODAY.isoformat(), "method": "e_signature", "document_id": str(signed.id)})
    db.expire_all()
    assert db.scalars(select(Signature.document_id).where(Signature.case_id == c.id)).all() == [signed.id]


def test_an_organisation_member_signs_and_corrects_its_own_signature_only(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = _drawn_up(db, w)
    officer = Browserless(web.client).login(w.officer)
    officer.post(f"/arenden/{c.id}/underskrift", {"party": "public", "name": "Eva Ek", "role": "Förvaltningschef",
                                                   "signed_on": TODAY.isoformat(), "method": "signed_copy"})
    public = db.scalars(select(Signature).where(Signature.case_id == c.id)).one()
    member = Browserless(web.client).login(w.member)
    page = member.get(f"/arenden/{c.id}").text
    signing = _section(page, 'id="avtal-rubrik"')
    assert "Registrera underskrift för organisationen" in signing and 'name="party" value="organisation"' in signing
    assert 'value="public"' not in signing.split("Registrera underskrift", 1)[1]  # no choice of the municipality's party
    assert f'action="/arenden/{c.id}/underskrift/{public.id}"' not in signing  # the municipality's: not the member's to correct
    # Recording the municipality's signature, or correcting or removing it, is refused by the rule in agreements.service.
    member.post(f"/arenden/{c.id}/underskrift", {"party": "public", "name": "X", "role": "Y", "signed_on": TODAY.isoformat()}, expect=403)
    member.post(f"/arenden/{c.id}/underskrift/{public.id}", {"party": "public", "name": "Någon annan", "role": "Y",
                                                              "signed_on": TODAY.isoformat(), "method": "signed_copy"}, expect=403)
    member.post(f"/arenden/{c.id}/underskrift/{public.id}/ta-bort", {}, expect=403)
    db.expire_all()
    assert db.get(Signature, public.id).name == "Eva Ek"

    member.post(f"/arenden/{c.id}/underskrift", {"party": "organisation", "name": "Olle Ordf", "role": "Ordförande",
                                                  "signed_on": TODAY.isoformat(), "method": "signed_copy"})
    own = db.scalars(select(Signature).where(Signature.case_id == c.id, Signature.party == Party.ORGANISATION)).one()
    page = member.get(f"/arenden/{c.id}").text
    assert f'action="/arenden/{c.id}/underskrift/{own.id}"' in page and "Registrera underskrift" not in _section(page, 'id="avtal-rubrik"')
    r = member.post(f"/arenden/{c.id}/underskrift/{own.id}", {"party": "organisation", "name": "Olle Ordförande", "role": "Ordförande",
                                                               "signed_on": "2020-01-01", "method": "signed_copy"}, expect=422)
    assert "upprättades" in r.text and f'id="sig{own.id}-signed_on-error"' in r.text  # the same date rule as the API
    r = member.post(f"/arenden/{c.id}/underskrift/{own.id}", {"party": "organisation", "name": "Olle Ordförande", "role": "Ordförande",
                                                               "signed_on": TODAY.isoformat(), "method": "signed_copy"})
    assert r.headers["location"] == f"/arenden/{c.id}#avtal"
    db.expire_all()
    assert db.get(Signature, own.id).name == "Olle Ordförande"
    member.post(f"/arenden/{c.id}/underskrift/{own.id}/ta-bort", {})
    db.expire_all()
    assert db.get(Signature, own.id) is None
    events = db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action.like("agreement.signature%"))
                        .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, (e.after or e.before)["party"]) for e in events] == [
        ("agreement.signature_corrected", w.member.id, "organisation"), ("agreement.signature_removed", w.member.id, "organisation")]
    assert events[0].after["signatory_changed"] is True and "Olle" not in str(events[0].after)
    history = member.get(f"/arenden/{c.id}").text
    assert "Underskrift rättad för organisationen" in history and "Underskrift borttagen för organisationen" in history
