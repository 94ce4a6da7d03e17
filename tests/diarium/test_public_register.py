"""The public register without login: a confidential entry shows only that it exists (page, JSON, CSV, and for an
organisation member too), internal entries and drafts never appear, active partnerships with their amount, pages and
the rate limit."""

from __future__ import annotations

import csv
import html as htmllib
import io
from datetime import date

import pytest
from factories import World, auth, case
from helpers import problem
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.auth.ratelimit import AttemptLimiter, get_public_limiter
from service.cases.stages import Stage
from service.diarium.models import DiaryEntry
from service.documents import service as documents
from service.documents.models import DocumentKind
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECRET = "Läkarintyg för Anna Andersson"


def _store_doc(db: Session, store, c, who, name: str, internal: bool = False) -> DiaryEntry:  # noqa: ANN001
    doc = documents.store_document(db, store, case=c, kind=DocumentKind.ATTACHMENT, filename="fil.pdf", content=PDF,
                                   content_type="application/pdf", user=who, original_filename=name, internal=internal)
    return db.scalars(select(DiaryEntry).where(DiaryEntry.document_id == doc.id)).one()


def _world(db: Session, store):  # noqa: ANN001, ANN202
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id, title="Läxhjälp i Norrby", requested_amount_sek=500_000)
    db.add(Agreement(case_id=c.id, terms={}, funding_amount_sek=420_000, period_start=date(2027, 1, 1), period_end=date(2028, 12, 31)))
    open_entry = _store_doc(db, store, c, w.member, "Verksamhetsplan 2027.pdf")
    secret = _store_doc(db, store, c, w.member, "intyg.pdf")
    secret.description, secret.counterpart = SECRET, "Anna Andersson"
    secret.confidential, secret.osl_reference = True, "OSL 25 kap. 1 §"
    internal = _store_doc(db, store, c, w.officer, "Intern riskbedömning.pdf", internal=True)
    draft = case(db, w.org, w.dep, title="Utkast som inte är inskickat")
    _store_doc(db, store, draft, w.member, "Utkastets bilaga.pdf")
    dialogue = case(db, w.org, w.dep, stage=Stage.DIALOGUE, title="Språkcafé i dialog")
    db.flush()
    return w, c, open_entry, secret, internal, dialogue


def _leaks(text: str) -> list[str]:
    return [s for s in (SECRET, "Anna Andersson", "intyg.pdf", "Intern riskbedömning", "Utkastets bilaga", "Utkast som inte") if s in text]


def test_confidential_entry_shows_only_that_it_exists_json_csv_and_page(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w, c, open_entry, secret, internal, dialogue = _world(db, store)
    anonymous = web.client

    r = anonymous.get("/api/v1/public/diary")
    assert r.status_code == 200, r.text
    assert _leaks(r.text) == []
    items = {e["reference"]: e for e in r.json()["items"]}
    assert set(items) == {f"{c.diarienummer}-{open_entry.number}", f"{c.diarienummer}-{secret.number}"}  # no internal, no draft
    stub = items[f"{c.diarienummer}-{secret.number}"]
    assert stub == {"reference": f"{c.diarienummer}-{secret.number}", "diarienummer": c.diarienummer,
                    "entry_date": secret.entry_date.isoformat(), "confidential": True, "secrecy": "Sekretess enligt OSL 25 kap. 1 §",
                    "direction": None, "document_type": None, "description": None, "counterpart": None, "case_title": None,
                    "department": None}
    shown = items[f"{c.diarienummer}-{open_entry.number}"]
    assert (shown["description"], shown["counterpart"], shown["direction"], shown["case_title"], shown["department"]) == (
        "Bilaga: Verksamhetsplan 2027.pdf", w.org.name, "inkommande", "Läxhjälp i Norrby", w.dep.name)

    r = anonymous.get("/api/v1/public/diary.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert _leaks(text) == []
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Diarienummer" and rows[0][-1] == "Sekretess"
    by_ref = {row[0]: row for row in rows[1:]}
    assert by_ref[stub["reference"]] == [stub["reference"], secret.entry_date.isoformat(), "", "", "", "", "", "",
                                         "Sekretess enligt OSL 25 kap. 1 §"]
    assert by_ref[shown["reference"]][4] == "Bilaga: Verksamhetsplan 2027.pdf"

    page = htmllib.unescape(anonymous.get("/offentligt").text)
    assert "<h1>Offentligt register</h1>" in page
    assert _leaks(page) == []
    assert stub["reference"] in page and "Sekretess enligt OSL 25 kap. 1 §" in page and "Bilaga: Verksamhetsplan 2027.pdf" in page

    # An organisation member sees no more: not on the public page, not on its own case's diary.
    member = Browserless(web.client).login(w.member)
    page = htmllib.unescape(member.get("/offentligt").text)
    assert _leaks(page) == [] and "Sekretess enligt OSL 25 kap. 1 §" in page
    r = web.client.get(f"/api/v1/cases/{c.id}/diary", headers=auth(w.member))
    assert r.status_code == 200 and _leaks(r.text) == []
    assert secret.number not in [e["number"] for e in r.json()]
    # The registrar releases the entry: now it shows in full.
    secret.confidential, secret.osl_reference = False, None
    db.flush()
    released = {e["reference"]: e for e in web.client.get("/api/v1/public/diary").json()["items"]}[stub["reference"]]
    assert released["description"] == SECRET and released["secrecy"] is None


def test_active_partnerships_with_the_agreements_amount(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w, c, *_, dialogue = _world(db, store)
    r = web.client.get("/api/v1/public/partnerships")
    assert r.status_code == 200, r.text
    mine = [p for p in r.json()["items"] if p["diarienummer"] in (c.diarienummer, dialogue.diarienummer)]
    assert mine == [{"diarienummer": c.diarienummer, "title": "Läxhjälp i Norrby", "organisation": w.org.name, "department": w.dep.name,
                     "period_start": "2027-01-01", "period_end": "2028-12-31", "amount_sek": 420_000}]
    rows = list(csv.reader(io.StringIO(web.client.get("/api/v1/public/partnerships.csv").content.decode("utf-8-sig")), delimiter=";"))
    assert [c.diarienummer, "Läxhjälp i Norrby", w.org.name, w.dep.name, "2027-01-01", "2028-12-31", "420000"] in rows
    page = htmllib.unescape(web.client.get("/offentligt").text)
    assert "Läxhjälp i Norrby" in page and "420 000 kr" in page.replace("\u00a0", " ") and "Språkcafé i dialog" not in page


def test_pages_follow_the_cursor_and_bad_input_is_422(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w, c, *_ = _world(db, store)
    for i in range(4):
        _store_doc(db, store, c, w.member, f"Bilaga {i}.pdf")
    db.flush()
    seen: list[str] = []
    cursor = None
    while True:
        body = web.client.get("/api/v1/public/diary", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        assert len(body["items"]) <= 2
        seen += [e["reference"] for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    mine = [s for s in seen if s.startswith(f"{c.diarienummer}-")]
    assert len(mine) == len(set(mine)) == 6  # two from the world, four here; none twice, none skipped
    assert len(seen) == len(set(seen))
    problem(web.client.get("/api/v1/public/diary", params={"cursor": "inte-en-cursor"}), 422)
    problem(web.client.get("/api/v1/public/diary", params={"from": "2026-12-31", "to": "2026-01-01"}), 422)
    problem(web.client.get("/api/v1/public/diary", params={"limit": 101}), 422)
    problem(web.client.get("/api/v1/public/partnerships", params={"cursor": "W10="}), 422)
    assert web.client.get("/api/v1/public/diary", params={"from": "2001-01-01", "to": "2001-12-31"}).json()["items"] == []
    assert "Ange datumet som ÅÅÅÅ-MM-DD" in htmllib.unescape(web.client.get("/offentligt?fran=1%20mars").text)
    assert web.client.get("/offentligt?sida=trasig").status_code == 422
    page = web.client.get("/offentligt?fran=2026-01-01&till=2100-12-31").text
    assert 'href="/api/v1/public/diary.csv?from=2026-01-01&amp;to=2100-12-31"' in page


@pytest.fixture
def tight_limit(app):  # noqa: ANN001, ANN201
    limiter = AttemptLimiter(3, 60, what=("förfrågningar till det offentliga registret", "requests to the public register"))
    app.dependency_overrides[get_public_limiter] = lambda: limiter
    yield limiter
    app.dependency_overrides.pop(get_public_limiter, None)


def test_public_register_is_rate_limited_per_client(web: Browserless, tight_limit) -> None:  # noqa: F811, ANN001
    for path in ("/api/v1/public/diary", "/api/v1/public/partnerships.csv", "/offentligt"):
        assert web.client.get(path).status_code == 200
    body = problem(web.client.get("/api/v1/public/diary"), 429)
    assert "offentliga registret" in body["detail"]
    assert int(web.client.get("/api/v1/public/partnerships").headers["retry-after"]) > 0
    assert web.client.get("/offentligt").status_code == 429
