"""PAdES signing of agreements with real LibreOffice (PDF/A) and pyHanko, against a CA made in the test.

The two-party agreement goes through the API as the officer and the two signatories would use it; the outdated
version and the decision seal go through the domain functions and the real outbox.
"""

from __future__ import annotations

import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from factories import World, auth, case, user
from gates_setup import terms_payload
from helpers import problem
from signing_setup import signing_settings
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.agreements import service as agreements
from service.agreements.models import Agreement, Signature
from service.agreements.schemas import AgreementTerms
from service.auth.models import Role
from service.cases import gates
from service.cases.stages import Stage
from service.config import AppealCourt
from service.deps import app_settings
from service.documents import service as documents
from service.documents.models import Document, DocumentKind
from service.documents.pdfa import PDF_CONTENT_TYPE, pdfa_available
from service.errors import Conflict, Forbidden, ValidationFailed
from service.signing import keys, pades
from service.signing import service as signing
from service.signing.models import OrderStatus, SigningOrder
from storage.base import ObjectLocked

needs_tools = pytest.mark.skipif(not pdfa_available() or shutil.which("pdftoppm") is None,
                                 reason="LibreOffice (soffice) and poppler-utils (pdftoppm) are needed")


def _agreement_case(db: Session, store, settings):  # noqa: ANN001, ANN202
    """A case in the agreement stage with complete terms, its generated agreement, and accounts for both named signatories."""
    w = World(db)
    olle = user(db, Role.ORG_MEMBER, organisation=w.org, full_name="Olle Ordförande")  # the terms' organisation signatory
    eva = user(db, Role.APPROVER, department=w.dep, full_name="Eva Ek", delegated_limit_sek=1_000_000)  # the municipality's
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    terms = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
    db.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                     period_start=terms.period_start, period_end=terms.period_end))
    db.flush()
    docx = documents.generate(db, store, w.officer, c, DocumentKind.AGREEMENT, settings=settings)
    return w, c, olle, eva, docx


def _signature_items(db: Session, c, settings) -> list[dict]:  # noqa: ANN001
    return [m for m in gates.agreement_ready(db, c, settings, None) if m["field"].startswith(("signatures", "signed_copy"))]


def _told(db: Session, case_id: int) -> list:
    from service.notifications.models import Notification

    return list(db.scalars(select(Notification).where(Notification.case_id == case_id, Notification.kind == "signing_requested")
                           .order_by(Notification.id)))


def _flip_inside_first_revision(pdf: bytes) -> bytes:
    """One bit changed inside the first page's content stream (signed by every signature)."""
    at = pdf.index(b"stream", pdf.index(b"/Contents")) + 40
    flipped = bytearray(pdf)
    flipped[at] ^= 0x01
    return bytes(flipped)


@needs_tools
def test_two_party_agreement_signed_in_turn_validates_and_shows_its_fields(app, client, db, store, settings, other_pki,
                                                                           tmp_path: Path) -> None:  # noqa: ANN001
    app.dependency_overrides[documents.get_store] = lambda: store
    app.dependency_overrides[app_settings] = lambda: settings
    try:
        w, c, olle, eva, docx = _agreement_case(db, store, settings)
        assert {i["field"] for i in _signature_items(db, c, settings)} == {"signatures.public", "signatures.organisation"}
        base = f"/api/v1/cases/{c.id}/signing-orders"
        body = {"signatories": [{"party": "organisation", "user_id": olle.id}, {"party": "public", "user_id": eva.id}]}
        # Only the named signatory's account: the member w.member is not "Olle Ordförande".
        wrong = problem(client.post(base, json={"signatories": [{"party": "organisation", "user_id": w.member.id},
                                                                {"party": "public", "user_id": eva.id}]}, headers=auth(w.officer)), 422)
        assert wrong["errors"][0]["field"] == "signatories.0.user_id"
        problem(client.post(base, json=body, headers=auth(olle)), 403)  # the officer invites, not a signatory
        created = client.post(base, json=body, headers={**auth(w.officer), "Idempotency-Key": "skicka-1"})
        assert created.status_code == 201, created.text
        order = created.json()
        again = client.post(base, json=body, headers={**auth(w.officer), "Idempotency-Key": "skicka-1"})  # a retry: the same order
        assert again.status_code == 201 and again.json()["id"] == order["id"] and again.headers.get("idempotency-replayed") == "true"
        assert [(i["position"], i["party"], i["name"]) for i in order["invitations"]] == [(1, "organisation", "Olle Ordförande"),
                                                                                         (2, "public", "Eva Ek")]
        problem(client.post(base, json=body, headers=auth(w.officer)), 409)  # this version is already out for signature
        assert [n.user_id for n in _told(db, c.id)] == [olle.id]  # the first signatory is told; the second when it is her turn
        sign = f"{base}/{order['id']}/sign"
        assert "Olle" in problem(client.post(sign, headers=auth(eva)), 409)["detail"]  # the organisation signs first
        problem(client.post(sign, headers=auth(w.member)), 403)  # a member of the organisation, but not invited
        problem(client.post(sign, headers=auth(w.other_member)), 404)  # another organisation does not see the case
        first = client.post(sign, headers=auth(olle))
        assert first.status_code == 200, first.text
        assert "redan" in problem(client.post(sign, headers=auth(olle)), 409)["detail"]  # twice
        assert [n.user_id for n in _told(db, c.id)] == [olle.id, eva.id]
        second = client.post(sign, headers=auth(eva))
        assert second.status_code == 200, second.text

        prepared = db.get(Document, order["document_id"])
        first_doc = db.get(Document, first.json()["signed_document_id"])
        final_doc = db.get(Document, second.json()["signed_document_id"])
        # Who signed which version: each signatory's checksum is the PDF they were given.
        assert first.json()["signed_over_sha256"] == prepared.sha256 and second.json()["signed_over_sha256"] == first_doc.sha256
        orders = client.get(base, headers=auth(w.member)).json()
        assert orders[0]["status"] == "completed" and orders[0]["signed_document_id"] == final_doc.id
        assert final_doc.kind == DocumentKind.SIGNED_AGREEMENT and final_doc.content_type == PDF_CONTENT_TYPE
        sigs = db.scalars(select(Signature).where(Signature.case_id == c.id).order_by(Signature.id)).all()
        assert [(s.party, s.name, s.method) for s in sigs] == [("organisation", "Olle Ordförande", "e_signature"),
                                                                ("public", "Eva Ek", "e_signature")]
        assert _signature_items(db, c, settings) == []  # the gate needs no scanned copy
        # A signature in the PDF is not a record to correct or remove.
        assert "elektroniskt" in problem(client.delete(f"/api/v1/cases/{c.id}/signatures/{sigs[0].id}", headers=auth(w.officer)), 409)["detail"]
        with pytest.raises(ObjectLocked):  # the signed agreement is kept under retention
            store.delete(final_doc.storage_key, final_doc.storage_version_id)

        checked = client.get(f"/api/v1/cases/{c.id}/documents/{final_doc.id}/signatures", headers=auth(w.member))
        assert checked.status_code == 200, checked.text
        report = checked.json()
        assert report["valid"] is True and report["trust_roots_configured"] is True
        assert [(s["field"], s["name"], s["intact"], s["trusted"], s["ok"]) for s in report["signatures"]] == [
            ("Underskrift1", "Olle Ordförande", True, True, True), ("Underskrift2", "Eva Ek", True, True, True)]
        # The first signature covers its revision; what followed is only the second signature (form filling).
        assert [(s["coverage"], s["modifications"]) for s in report["signatures"]] == [("entire_revision", "form_filling"),
                                                                                      ("entire_file", "none")]
        assert "Exempelstads kommun" in report["signatures"][0]["signer"]
        problem(client.get(f"/api/v1/cases/{c.id}/documents/{docx.id}/signatures", headers=auth(w.officer)), 409)  # a .docx

        pdf = documents.read_content(store, final_doc)
        broken = pades.validate(_flip_inside_first_revision(pdf), keys.trust_roots(settings))
        assert not broken.valid and [s.intact for s in broken.signatures] == [False, False]
        foreign = pades.validate(pdf, keys.trust_roots(signing_settings(other_pki)))
        assert not foreign.valid and not any(s.trusted for s in foreign.signatures)

        _renders_with_signature_fields(pdf, documents.read_content(store, prepared), tmp_path)
    finally:
        app.dependency_overrides.pop(documents.get_store, None)
        app.dependency_overrides.pop(app_settings, None)


def _renders_with_signature_fields(pdf: bytes, unsigned: bytes, tmp: Path) -> None:
    """pdftoppm renders the signature page; its text names both signatories and it differs from the unsigned page."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf))
    last = int(reader.root["/Pages"]["/Count"])
    widgets = [a.get_object() for a in reader.root["/Pages"]["/Kids"][-1].get_object()["/Annots"]]
    sig_widgets = [a for a in widgets if a.get("/FT") == "/Sig"]
    assert [str(a["/T"]) for a in sig_widgets] == ["Underskrift1", "Underskrift2"]
    assert all("/V" in a and "/AP" in a for a in sig_widgets)  # signed, with a visible appearance
    (tmp / "signed.pdf").write_bytes(pdf)
    (tmp / "unsigned.pdf").write_bytes(unsigned)
    for name in ("signed", "unsigned"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(last), "-l", str(last), "-singlefile", str(tmp / f"{name}.pdf"),
                        str(tmp / name)], check=True, capture_output=True, timeout=60)
    assert (tmp / "signed.png").read_bytes() != (tmp / "unsigned.png").read_bytes()
    text = subprocess.run(["pdftotext", "-f", str(last), "-l", str(last), "-layout", str(tmp / "signed.pdf"), "-"], check=True,
                          capture_output=True, timeout=60, text=True).stdout
    for expected in ("Elektroniskt undertecknat", "Olle Ordförande", "Ordförande", "Eva Ek", "Förvaltningschef", "Datum: 20"):
        assert expected in text, (expected, text)


@needs_tools
def test_signing_a_superseded_version_is_refused(db, store, settings) -> None:  # noqa: ANN001
    w, c, olle, eva, docx = _agreement_case(db, store, settings)
    order = signing.invite(db, store, w.officer, c, [("organisation", olle.id), ("public", eva.id)], settings)
    # The terms change before anyone signs, and the agreement is drawn up again: the invited version is outdated.
    agreements.save_draft(db, w.officer, c, {"purpose": "Minska ofrivillig ensamhet och öka delaktigheten."})
    with pytest.raises(Conflict, match="ändrats"):
        signing.sign(db, store, olle, c, order.id, settings)
    newer = documents.generate(db, store, w.officer, c, DocumentKind.AGREEMENT, settings=settings)
    with pytest.raises(Conflict, match="ändrats") as refused:
        signing.sign(db, store, olle, c, order.id, settings)
    assert refused.value.status_code == 409
    assert db.scalar(select(Signature.id).where(Signature.case_id == c.id)) is None
    again = signing.invite(db, store, w.officer, c, [("organisation", olle.id), ("public", eva.id)], settings)
    db.refresh(order)
    assert order.status == OrderStatus.SUPERSEDED and again.source_document_id == newer.id
    with pytest.raises(Conflict):
        signing.sign(db, store, olle, c, order.id, settings)
    with pytest.raises(Forbidden):  # the officer is not a signatory
        signing.sign(db, store, w.officer, c, again.id, settings)
    assert signing.sign(db, store, olle, c, again.id, settings).signed_at is not None


def test_invitation_needs_one_named_signatory_per_party(db, store, settings) -> None:  # noqa: ANN001
    w, c, olle, eva, docx = _agreement_case(db, store, settings)
    with pytest.raises(ValidationFailed):
        signing.invite(db, store, w.officer, c, [("organisation", olle.id), ("organisation", olle.id)], settings)
    stranger = user(db, Role.APPROVER, department=World(db).dep, full_name="Eva Ek")  # the right name, another department
    with pytest.raises(ValidationFailed) as refused:
        signing.invite(db, store, w.officer, c, [("organisation", olle.id), ("public", stranger.id)], settings)
    assert refused.value.errors[0]["field"] == "signatories.1.user_id"
    assert db.scalar(select(SigningOrder.id).where(SigningOrder.case_id == c.id)) is None


@needs_tools
def test_decision_is_sealed_by_the_outbox_and_validates_against_the_test_ca(fresh_engine, tmp_path: Path, pki, other_pki) -> None:  # noqa: ANN001
    from service.effects import HANDLERS
    from service.notifications.mailer import FileMailer
    from service.outbox.service import Context, process
    from service.reviews import service as reviews
    from service.reviews.models import Decision
    from storage.filesystem import FilesystemStore

    store = FilesystemStore(tmp_path / "objects")
    factory = sessionmaker(fresh_engine, expire_on_commit=False)
    with factory() as s, s.begin():
        w = World(s)
        settings = signing_settings(pki, appeal_courts={w.dep.municipality: AppealCourt(court="Förvaltningsrätten i Luleå")})
        c = case(s, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
        r = reviews.request_review(s, w.officer, c, settings, to_stage=None, approver_id=None, comment="")
        reviews.decide(s, w.approver, c, r, Decision.REJECT, "Verksamheten ryms inte i ett IOP.", settings)
        case_id = c.id
    ctx = Context(settings=settings, mailer=FileMailer(tmp_path / "mail", settings.mail_from), store_factory=lambda: store, handlers=HANDLERS)
    for _ in range(3):
        process(factory, ctx)
    with factory() as s:
        docs = s.scalars(select(Document).where(Document.case_id == case_id, Document.kind == DocumentKind.DECISION).order_by(Document.id)).all()
        assert [d.content_type for d in docs] == [documents.DOCX, PDF_CONTENT_TYPE]
        sealed = docs[1]
        assert sealed.review_id == docs[0].review_id and sealed.filename.endswith("-sigill.pdf")
        pdf = documents.read_content(store, sealed)
    report = pades.validate(pdf, keys.trust_roots(settings))
    assert report.valid, report
    (seal,) = report.signatures
    assert seal.field == "Sigill" and seal.trusted and seal.coverage == "entire_file" and "Exempelstads kommun" in seal.signer
    assert not pades.validate(pdf, keys.trust_roots(signing_settings(other_pki))).valid
    assert b"/GTS_PDFA1" in pdf or b"pdfaid" in pdf  # the sealed decision is the PDF/A copy
    with pytest.raises(ObjectLocked):
        store.delete(sealed.storage_key, sealed.storage_version_id)


@needs_tools
def test_one_signatory_signing_twice_at_once_signs_once(fresh_engine, tmp_path: Path, pki) -> None:  # noqa: ANN001
    import threading

    from storage.filesystem import FilesystemStore

    store = FilesystemStore(tmp_path / "objects")
    settings = signing_settings(pki)
    factory = sessionmaker(fresh_engine, expire_on_commit=False)
    with factory() as s, s.begin():
        w, c, olle, eva, docx = _agreement_case(s, store, settings)
        order = signing.invite(s, store, w.officer, c, [("organisation", olle.id), ("public", eva.id)], settings)
        case_id, order_id, olle_id = c.id, order.id, olle.id
    barrier, results = threading.Barrier(2), []

    def attempt() -> None:
        from service.auth.models import User
        from service.cases.models import Case

        with factory() as s:
            barrier.wait()
            try:
                with s.begin():
                    signing.sign(s, store, s.get(User, olle_id), s.get(Case, case_id), order_id, settings)
                results.append("signed")
            except Conflict as exc:
                results.append(f"409 {exc.detail}")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    # SQLite serialises the two transactions (the second finds the signature); PostgreSQL signs twice and keeps the first.
    assert sorted(r.split()[0] for r in results) == ["409", "signed"], results
    with factory() as s:
        assert len(s.scalars(select(Signature).where(Signature.case_id == case_id)).all()) == 1
        assert s.get(SigningOrder, order_id).signed_document_id is not None
