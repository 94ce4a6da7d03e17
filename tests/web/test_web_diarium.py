"""The diarium on the web: the case page's section for staff and the /diarium search, against the real services (no browser)."""

from __future__ import annotations

import html as htmllib

from factories import World, case, department
from sqlalchemy.orm import Session

from service.cases.stages import Stage
from service.diarium.models import DiaryEntry
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.messages import service as messages
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _world(db: Session, store) -> tuple[World, object, object]:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id, title="Läxhjälp i Norrby")
    elsewhere = case(db, w.org, department(db), stage=Stage.DIALOGUE, title="Språkcafé i Söderby")
    documents.store_document(db, store, case=c, kind=DocumentKind.ATTACHMENT, filename="budget.pdf", content=PDF,
                             content_type="application/pdf", user=w.member, original_filename="Budget läxhjälp.pdf")
    messages.post_message(db, w.officer, c, "Välkomna till dialogmöte")
    documents.store_document(db, store, case=elsewhere, kind=DocumentKind.ATTACHMENT, filename="budget.pdf", content=PDF,
                             content_type="application/pdf", user=w.member)
    secret = db.query(DiaryEntry).filter_by(case_id=c.id, number=1).one()
    secret.confidential, secret.osl_reference = True, "OSL 31 kap. 16 §"
    db.flush()
    return w, c, elsewhere


def test_case_page_lists_the_diarium_for_staff_only(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w, c, _ = _world(db, store)
    for staff in (w.officer, w.registrar):
        page = htmllib.unescape(Browserless(web.client).login(staff).get(f"/arenden/{c.id}").text)
        assert 'id="diarium-rubrik">Diarium</h2>' in page
        assert f"{c.diarienummer}-1" in page and f"{c.diarienummer}-2" in page
        assert "Bilaga: Budget läxhjälp.pdf" in page and "OSL 31 kap. 16 §" in page and "Utgående" in page
    member_page = htmllib.unescape(Browserless(web.client).login(w.member).get(f"/arenden/{c.id}").text)
    assert "diarium-rubrik" not in member_page and "OSL 31 kap" not in member_page


def test_diarium_search_page(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w, c, elsewhere = _world(db, store)
    registrar = Browserless(web.client).login(w.registrar)
    page = htmllib.unescape(registrar.get("/diarium?q=budget").text)
    assert '<a class="main-nav__link" href="/diarium" aria-current="page">Diarium</a>' in page
    assert "Läxhjälp i Norrby" in page and "Språkcafé i Söderby" in page and "Välkomna" not in page
    officer = Browserless(web.client).login(w.officer)
    page = htmllib.unescape(officer.get("/diarium?q=budget").text)
    assert "Läxhjälp i Norrby" in page and "Språkcafé i Söderby" not in page
    page = htmllib.unescape(officer.get("/diarium?fran=2001-01-01&till=2001-12-31").text)
    assert "Inga diarieposter matchar sökningen." in page
    bad = officer.get("/diarium?fran=1%20mars", expect=422).text
    assert "Ange datumet som ÅÅÅÅ-MM-DD" in htmllib.unescape(bad)
    assert "Slutdatumet kan inte vara före startdatumet." in htmllib.unescape(
        officer.get("/diarium?fran=2026-03-01&till=2026-02-01", expect=422).text)
    assert "Sökningen får inte innehålla styrtecken." in htmllib.unescape(officer.get("/diarium?q=a%00b", expect=422).text)
    Browserless(web.client).login(w.member).get("/diarium", expect=403)
    Browserless(web.client).login(w.approver).get("/diarium", expect=403)
