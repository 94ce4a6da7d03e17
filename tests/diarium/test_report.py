"""The diarium report of a period: CSV and PDF/A (text read back with poppler's pdftotext) hold the period's entries the
user may see, confidential ones with their OSL reference; the web form gives the same file; the template is fresh."""

from __future__ import annotations

import csv
import html as htmllib
import io
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from factories import World, auth, case, department, user
from helpers import error_fields, problem
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Role
from service.cases.stages import Stage
from service.diarium.models import DiaryEntry
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.documents.pdfa import pdfa_available
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ROOT = Path(__file__).resolve().parents[2]
needs_tools = pytest.mark.skipif(not pdfa_available() or shutil.which("pdftotext") is None,
                                 reason="LibreOffice (soffice) and poppler-utils (pdftotext) are needed")
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


def _entry(db: Session, store, c, who, name: str, on: date, **fields) -> DiaryEntry:  # noqa: ANN001, ANN003
    doc = documents.store_document(db, store, case=c, kind=DocumentKind.ATTACHMENT, filename="fil.pdf", content=PDF,
                                   content_type="application/pdf", user=who, original_filename=name)
    entry = db.scalars(select(DiaryEntry).where(DiaryEntry.document_id == doc.id)).one()
    entry.entry_date = on
    for k, v in fields.items():
        setattr(entry, k, v)
    db.flush()
    return entry


def _world(db: Session, store):  # noqa: ANN001, ANN202
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id, title="Läxhjälp i Norrby")
    other_dep = department(db)
    elsewhere = case(db, w.org, other_dep, stage=Stage.DIALOGUE, title="Språkcafé i Söderby")
    first = _entry(db, store, c, w.member, "Verksamhetsplan.pdf", date(2026, 3, 2))
    secret = _entry(db, store, c, w.member, "Läkarintyg.pdf", date(2026, 3, 15), confidential=True, osl_reference="OSL 25 kap. 1 §",
                    description="Läkarintyg för deltagare")
    before = _entry(db, store, c, w.member, "Februaribilaga.pdf", date(2026, 2, 27))
    after = _entry(db, store, c, w.member, "Aprilbilaga.pdf", date(2026, 4, 1))
    other = _entry(db, store, elsewhere, w.member, "Söderbys budget.pdf", date(2026, 3, 20))
    return w, c, elsewhere, other_dep, first, secret, before, after, other


def _csv_rows(r) -> list[list[str]]:  # noqa: ANN001
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))


def test_csv_report_of_a_period_with_the_secrecy_marking(client, db, store) -> None:
    w, c, elsewhere, other_dep, first, secret, *_ = _world(db, store)
    r = client.get("/api/v1/diary/report", params={**PERIOD, "format": "csv"}, headers=auth(w.registrar))
    assert r.headers["content-disposition"] == 'attachment; filename="diarierapport-2026-03-01-2026-03-31.csv"'
    header, *rows = _csv_rows(r)
    assert header == ["Diarienummer", "Datum", "Riktning", "Handlingstyp", "Beskrivning", "Avsändare/mottagare", "Ärende", "Sekretess",
                      "OSL-hänvisning"]
    assert [row[:2] for row in rows] == [[f"{c.diarienummer}-{first.number}", "2026-03-02"], [f"{c.diarienummer}-{secret.number}", "2026-03-15"],
                                         [f"{elsewhere.diarienummer}-1", "2026-03-20"]]
    assert rows[0] == [f"{c.diarienummer}-{first.number}", "2026-03-02", "Inkommande", "Bilaga", "Bilaga: Verksamhetsplan.pdf", w.org.name,
                       "Läxhjälp i Norrby", "", ""]
    assert rows[1][4] == "Läkarintyg för deltagare" and rows[1][7:] == ["Sekretess", "OSL 25 kap. 1 §"]
    # The officer's report holds the own department's cases only.
    officer_rows = _csv_rows(client.get("/api/v1/diary/report", params=PERIOD, headers=auth(w.officer)))[1:]
    assert [row[0] for row in officer_rows] == [f"{c.diarienummer}-{first.number}", f"{c.diarienummer}-{secret.number}"]
    other_officer = user(db, Role.OFFICER, department=other_dep)
    assert [row[0] for row in _csv_rows(client.get("/api/v1/diary/report", params=PERIOD, headers=auth(other_officer)))[1:]] == [
        f"{elsewhere.diarienummer}-1"]
    # Only registrars and officers; a period is required.
    for who in (w.member, w.approver, w.admin):
        problem(client.get("/api/v1/diary/report", params=PERIOD, headers=auth(who)), 403)
    problem(client.get("/api/v1/diary/report", params=PERIOD), 401)
    assert error_fields(problem(client.get("/api/v1/diary/report", headers=auth(w.registrar)), 422)) == {"from", "to"}
    problem(client.get("/api/v1/diary/report", params={"from": "2026-04-01", "to": "2026-03-01"}, headers=auth(w.registrar)), 422)
    problem(client.get("/api/v1/diary/report", params={**PERIOD, "format": "docx"}, headers=auth(w.registrar)), 422)


def _pdftotext(pdf: bytes, tmp: Path) -> str:
    (tmp / "rapport.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", str(tmp / "rapport.pdf"), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout


@needs_tools
def test_pdf_report_text_holds_the_period_and_its_confidential_entry(client, db, store, tmp_path) -> None:  # noqa: ANN001
    w, c, elsewhere, _, first, secret, before, after, other = _world(db, store)
    r = client.get("/api/v1/diary/report", params={**PERIOD, "format": "pdf"}, headers=auth(w.registrar))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    assert b"pdfaid" in r.content  # PDF/A identification in the XMP packet (LibreOffice's PDF/A-2b export)
    text = " ".join(_pdftotext(r.content, tmp_path).split())
    for expected in ("DIARIERAPPORT", "Period: 2026-03-01 – 2026-03-31", "Alla förvaltningar", "Antal diarieposter 3",
                     "Varav sekretessmarkerade 1", w.registrar.full_name, "får inte lämnas ut utan en sekretessprövning",
                     f"{c.diarienummer}-{first.number}", f"{c.diarienummer}-{secret.number}", f"{elsewhere.diarienummer}-1",
                     "Sekretess enligt OSL 25 kap. 1 §", "Läkarintyg för deltagare", "Verksamhetsplan.pdf", "Söderbys budget.pdf"):
        assert expected in text, (expected, text)
    for absent in ("Februaribilaga", "Aprilbilaga"):
        assert absent not in text
    # An officer's PDF: the own department, and no secrecy note when the period has no confidential entry.
    r = client.get("/api/v1/diary/report", params={"from": "2026-03-01", "to": "2026-03-10", "format": "pdf"}, headers=auth(w.officer))
    text = " ".join(_pdftotext(r.content, tmp_path).split())
    assert w.dep.name in text and "Antal diarieposter 1" in text and "sekretessprövning" not in text
    # An empty period says so.
    r = client.get("/api/v1/diary/report", params={"from": "2001-01-01", "to": "2001-01-31", "format": "pdf"}, headers=auth(w.registrar))
    assert "Inga handlingar diarieförda under perioden." in _pdftotext(r.content, tmp_path)


def test_web_report_form_gives_the_same_file_and_swedish_errors(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w, c, *_ = _world(db, store)
    registrar = Browserless(web.client).login(w.registrar)
    page = htmllib.unescape(registrar.get("/diarium").text)
    assert 'id="rapport-rubrik">Diarierapport</h2>' in page and 'action="/diarium/rapport"' in page
    r = registrar.get("/diarium/rapport?fran=2026-03-01&till=2026-03-31&format=csv")
    api = web.client.get("/api/v1/diary/report", params={**PERIOD, "format": "csv"}, headers=auth(w.registrar))
    assert _csv_rows(r) == _csv_rows(api)
    bad = htmllib.unescape(registrar.get("/diarium/rapport?fran=&till=31%20mars&format=pdf", expect=422).text)
    assert "Rapporten kunde inte tas fram" in bad and "Ange periodens datum som ÅÅÅÅ-MM-DD." in bad and "Ange datumet som ÅÅÅÅ-MM-DD" in bad
    assert "Inga diarieposter matchar sökningen." not in bad
    assert "Slutdatumet kan inte vara före startdatumet." in htmllib.unescape(
        registrar.get("/diarium/rapport?fran=2026-04-01&till=2026-03-01&format=csv", expect=422).text)
    assert "Välj PDF eller CSV." in htmllib.unescape(registrar.get("/diarium/rapport?fran=2026-03-01&till=2026-03-31&format=xls", expect=422).text)
    Browserless(web.client).login(w.member).get("/diarium/rapport?fran=2026-03-01&till=2026-03-31&format=csv", expect=403)


def test_report_template_is_built_by_the_script(tmp_path: Path) -> None:
    script = ROOT / "templates" / "source" / "build_templates.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True, timeout=120)
    committed, fresh = ROOT / "templates" / "rapporter" / "diarierapport.docx", tmp_path / "rapporter" / "diarierapport.docx"
    with zipfile.ZipFile(committed) as a, zipfile.ZipFile(fresh) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), f"templates/rapporter/diarierapport.docx:{name} is stale: run build_templates.py"
