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
