"""PDF/A-2b conversion through real headless LibreOffice (skipped only when it is absent)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from lxml import etree

from service.documents import pdfa
from service.documents.pdfa import (
    PdfConversionError,
    PdfConversionUnavailable,
    convert_to_pdfa,
    pdfa_available,
)
from service.documents.rendering import render

needs_soffice = pytest.mark.skipif(
    not pdfa_available(), reason="LibreOffice (soffice) is not installed"
)

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def xmp_packet(pdf: bytes) -> etree._Element:
    """The XMP metadata packet of a PDF (PDF/A requires it unfiltered, so it is plain bytes)."""
    start = pdf.find(b"<x:xmpmeta")
    end = pdf.find(b"</x:xmpmeta>")
    assert start != -1 and end > start, "no XMP metadata in the PDF"
    return etree.fromstring(pdf[start:end + len(b"</x:xmpmeta>")])


def pdfa_identification(pdf: bytes) -> tuple[str | None, str | None]:
    """(pdfaid:part, pdfaid:conformance), written as elements or as attributes."""
    root = xmp_packet(pdf)
    part = conformance = None
    for desc in root.iterfind(".//rdf:Description", NS):
        part = part or desc.get(f"{{{NS['pdfaid']}}}part") or desc.findtext("pdfaid:part",
                                                                           namespaces=NS)
        conformance = conformance or desc.get(f"{{{NS['pdfaid']}}}conformance") or desc.findtext(
            "pdfaid:conformance", namespaces=NS)
    return (part.strip() if part else None, conformance.strip() if conformance else None)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@needs_soffice
def test_agreement_converts_to_pdfa_2b(agreement) -> None:
    pdf = convert_to_pdfa(render(agreement).content)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert pdfa_identification(pdf) == ("2", "B")
    root = xmp_packet(pdf)
    title = root.findtext(".//dc:title/rdf:Alt/rdf:li", namespaces=NS)
    assert title == "Överenskommelse om idéburet offentligt partnerskap (IOP) – SOC 2026/0042"
    assert page_count(pdf) >= 3
    # PDF/A forbids encryption and requires embedded fonts
    assert b"/Encrypt" not in pdf
    assert b"/FontFile2" in pdf or b"/FontFile3" in pdf or b"/FontFile " in pdf


@needs_soffice
def test_parallel_conversions_do_not_collide(decision, minutes) -> None:
    docs = {"decision": render(decision).content, "minutes": render(minutes).content}
    results: dict[str, bytes] = {}
    errors: list[BaseException] = []

    def work(key: str) -> None:
        try:
            results[key] = convert_to_pdfa(docs[key], timeout=120)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in docs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for key, pdf in results.items():
        assert pdfa_identification(pdf) == ("2", "B"), key


@needs_soffice
def test_non_docx_input_raises_conversion_error() -> None:
    for garbage in (b"", b"plain text, not a document", b"%PDF-1.7"):
        with pytest.raises(PdfConversionError, match="not a .docx"):
            convert_to_pdfa(garbage)


@needs_soffice
def test_broken_zip_raises_conversion_error() -> None:
    with pytest.raises(PdfConversionError):
        convert_to_pdfa(b"PK\x03\x04" + b"\x00" * 64, timeout=60)


def test_unavailable_raises_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Point the lookup at a binary that does not exist: the real "not installed" path.
    monkeypatch.setenv("IOP_SOFFICE", str(tmp_path / "no-such-soffice"))
    assert pdfa.find_soffice() is None
    assert pdfa_available() is False
    with pytest.raises(PdfConversionUnavailable, match="LibreOffice"):
        convert_to_pdfa(b"PK\x03\x04")
    assert issubclass(PdfConversionUnavailable, PdfConversionError)


@needs_soffice
def test_timeout_kills_libreoffice_and_raises(agreement) -> None:
    with pytest.raises(PdfConversionError, match="did not finish"):
        convert_to_pdfa(render(agreement).content, timeout=0.05)


# --------------------------------------------------------------------------- PDF/A copies through the API


def _agreement_case(db):  # noqa: ANN001, ANN202
    from factories import World, case
    from gates_setup import terms_payload

    from service.agreements.models import Agreement
    from service.agreements.schemas import AgreementTerms
    from service.cases.stages import Stage

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    t = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
    db.add(Agreement(case_id=c.id, terms=t.model_dump(mode="json"), funding_amount_sek=t.funding_amount_sek,
                     period_start=t.period_start, period_end=t.period_end))
    db.flush()
    return w, c


def _generate(client, w, c) -> dict:  # noqa: ANN001
    from factories import auth

    r = client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer))
    assert r.status_code == 201, r.text
    return r.json()


@needs_soffice
def test_pdf_copy_through_the_api_is_pdfa_2b(client, db, store) -> None:  # noqa: ANN001
    import hashlib
    import time

    from factories import auth
    from sqlalchemy import select

    from service.audit.models import AuditEvent

    w, c = _agreement_case(db)
    source = _generate(client, w, c)
    t0 = time.monotonic()
    r = client.post(f"/api/v1/cases/{c.id}/documents/{source['id']}/pdf", headers=auth(w.officer))
    elapsed = time.monotonic() - t0
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["kind"] == "agreement" and meta["version"] == source["version"] + 1 and meta["id"] != source["id"]
    assert meta["content_type"] == "application/pdf" and meta["filename"].endswith("-v1.pdf")
    assert meta["template_name"] == source["template_name"] == "iop_avtal.docx"
    assert meta["template_sha256"] == source["template_sha256"] and meta["internal"] is False
    # The organisation downloads it like any other document; the bytes are the ones checksummed at storing.
    dl = client.get(f"/api/v1/cases/{c.id}/documents/{meta['id']}/content", headers=auth(w.member))
    assert dl.status_code == 200 and dl.headers["content-type"] == "application/pdf"
    pdf = dl.content
    assert hashlib.sha256(pdf).hexdigest() == meta["sha256"] == dl.headers["x-content-sha256"] and len(pdf) == meta["size"]
    assert pdf.startswith(b"%PDF-") and pdfa_identification(pdf) == ("2", "B")
    title = xmp_packet(pdf).findtext(".//dc:title/rdf:Alt/rdf:li", namespaces=NS)
    assert title and c.diarienummer in title
    # The source stays as it was; the copy names it in the audit chain.
    again = client.get(f"/api/v1/cases/{c.id}/documents/{source['id']}/content", headers=auth(w.member))
    assert hashlib.sha256(again.content).hexdigest() == source["sha256"]
    event = db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "document.stored")
                       .order_by(AuditEvent.seq)).all()[-1]
    assert event.after["document_id"] == meta["id"] and event.after["source_document_id"] == source["id"]
    assert event.after["source_sha256"] == source["sha256"]
    print(f"PDF/A conversion through the API: {elapsed:.2f} s")


def test_pdf_copy_refuses_what_is_not_docx(client, db, store) -> None:  # noqa: ANN001
    from factories import auth
    from helpers import problem

    w, c = _agreement_case(db)
    r = client.post(f"/api/v1/cases/{c.id}/attachments", files={"file": ("scan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
                    headers=auth(w.officer))
    assert r.status_code == 201, r.text
    body = problem(client.post(f"/api/v1/cases/{c.id}/documents/{r.json()['id']}/pdf", headers=auth(w.officer)), 409)
    assert ".docx" in body["detail"] and body["content_type"] == "application/pdf"
    # An uploaded Word file is refused too: LibreOffice only ever opens documents rendered from our templates.
    generated = _generate(client, w, c)
    docx = client.get(f"/api/v1/cases/{c.id}/documents/{generated['id']}/content", headers=auth(w.officer)).content
    up = client.post(f"/api/v1/cases/{c.id}/attachments", files={"file": ("eget-avtal.docx", docx, "application/octet-stream")},
                     headers=auth(w.member))
    assert up.status_code == 201 and up.json()["content_type"].endswith("wordprocessingml.document"), up.text
    problem(client.post(f"/api/v1/cases/{c.id}/documents/{up.json()['id']}/pdf", headers=auth(w.officer)), 409)


def test_pdf_copy_reports_itself_unavailable_without_libreoffice(client, db, store, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    from factories import auth
    from helpers import problem
    from sqlalchemy import func, select

    from service.documents.models import Document

    w, c = _agreement_case(db)
    source = _generate(client, w, c)
    monkeypatch.setenv("IOP_SOFFICE", str(tmp_path / "no-such-soffice"))
    before = db.scalar(select(func.count()).select_from(Document))
    r = client.post(f"/api/v1/cases/{c.id}/documents/{source['id']}/pdf", headers=auth(w.officer))
    body = problem(r, 503)
    assert "LibreOffice" in body["detail"] and "inte är installerat" in body["detail"] and "not installed" in body["detail"]
    assert body["type"].endswith("/pdfa-unavailable") and r.headers["retry-after"]
    assert db.scalar(select(func.count()).select_from(Document)) == before


@pytest.mark.parametrize("store", ["filesystem"], indirect=True)
def test_pdf_copy_authorisation_and_internal_documents(client, db, store, decision) -> None:  # noqa: ANN001
    """Same rules as generating: the department's officers only; internal sources stay hidden, and so do their copies."""
    from factories import auth
    from helpers import problem

    from service.documents.rendering import render as render_docx

    w, c = _agreement_case(db)
    source = _generate(client, w, c)
    url = f"/api/v1/cases/{c.id}/documents/{source['id']}/pdf"
    problem(client.post(url, headers=auth(w.member)), 403)
    problem(client.post(url, headers=auth(w.approver)), 403)
    problem(client.post(url, headers=auth(w.other_member)), 404)
    problem(client.post(f"/api/v1/cases/{c.id}/documents/999999/pdf", headers=auth(w.officer)), 404)
    problem(client.post(url, headers={}), 401)
    # An officer's internal .docx: invisible to the organisation, so 404 rather than 403.
    docx = render_docx(decision).content
    r = client.post(f"/api/v1/cases/{c.id}/attachments", data={"internal": "true"},
                    files={"file": ("intern-pm.docx", docx, "application/octet-stream")}, headers=auth(w.officer))
    assert r.status_code == 201 and r.json()["internal"] is True, r.text
    internal_url = f"/api/v1/cases/{c.id}/documents/{r.json()['id']}/pdf"
    problem(client.post(internal_url, headers=auth(w.member)), 404)
    problem(client.post(internal_url, headers=auth(w.officer)), 409)  # uploaded, not generated: never opened by LibreOffice


@needs_soffice
@pytest.mark.parametrize("store", ["filesystem"], indirect=True)
def test_pdf_copy_of_an_agreement_with_recorded_signatures_prints_no_signing_dates(client, db, store) -> None:  # noqa: ANN001
    """The generated agreement is the document to be signed: recorded signatures put no dates under its empty lines."""
    from datetime import date

    from factories import auth

    from service.agreements.models import Party, Signature

    w, c = _agreement_case(db)
    source = _generate(client, w, c)
    db.add(Signature(case_id=c.id, party=Party.ORGANISATION, name="Olle Ordförande", role="Ordförande", signed_on=date(2026, 11, 2)))
    db.flush()
    # Signed, the agreement is frozen: it cannot be drawn up again (which would leave no sign of the signed version).
    again = client.post(f"/api/v1/cases/{c.id}/documents/agreement/generate", headers=auth(w.officer))
    assert again.status_code == 409 and "undertecknat" in again.json()["detail"]
    docx_bytes = client.get(f"/api/v1/cases/{c.id}/documents/{source['id']}/content", headers=auth(w.officer)).content
    import io

    import docx as python_docx

    text = "\n".join(p.text for t in python_docx.Document(io.BytesIO(docx_bytes)).tables for r in t.rows for cell in r.cells
                     for p in cell.paragraphs)
    assert "Ort och datum" in text and "2026-11-02" not in text
    r = client.post(f"/api/v1/cases/{c.id}/documents/{source['id']}/pdf", headers=auth(w.officer))
    assert r.status_code == 201, r.text
    pdf = client.get(f"/api/v1/cases/{c.id}/documents/{r.json()['id']}/content", headers=auth(w.officer)).content
    assert b"2026-11-02" not in pdf
    # The diarienummer is in the PDF's metadata: the title, and the keywords (LibreOffice splits them at spaces).
    root = xmp_packet(pdf)
    assert c.diarienummer in root.findtext(".//dc:title/rdf:Alt/rdf:li", namespaces=NS)
    keywords = root.findtext(".//pdf:Keywords", namespaces={**NS, "pdf": "http://ns.adobe.com/pdf/1.3/"})
    assert c.diarienummer.split()[-1] in keywords
