"""The case list /arenden (search by organisation, sortable columns, filters, pages that keep them, Swedish refusals)
and the printable case sheet /arenden/{id}/utskrift, against the real services on SQLite and PostgreSQL (no browser)."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from factories import World, case, organisation
from gates_setup import add_document, satisfy_gate
from sqlalchemy.orm import Session

from service.cases.models import StageChange
from service.cases.stages import Stage
from service.config import get_settings
from service.db import utcnow
from service.deadlines.models import DeadlineKind
from service.deadlines.rules import create as create_deadline
from service.documents.models import DocumentKind
from service.reviews.models import Review, ReviewStatus
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)


def _titles(page: str) -> list[str]:
    """The case titles of the list's rows, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [htmllib.unescape(t) for t in re.findall(r'<a href="/arenden/\d+">([^<]+)</a>', body)]


def _th(page: str, heading: str) -> str:
    """The <th> of a column, by its heading."""
    m = re.search(r"<th[^>]*>\s*<a class=\"sort-link\"[^>]*>" + re.escape(heading) + r"<.*?</th>", page, flags=re.S)
    assert m, heading
    return m.group(0)


def _href(page: str, text: str) -> str:
    m = re.search(r'href="([^"]+)"[^>]*>' + re.escape(text), page)
    assert m, text
    return htmllib.unescape(m.group(1))


def test_search_by_organisation_sort_links_and_filters(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    orebro = organisation(db, name="ÖREBRO Läxhjälp")
    ek = organisation(db, name="Kvinnojouren Ek")
    case(db, orebro, w.dep, stage=Stage.DIALOGUE, title="Bbb läxhjälp", officer_id=w.officer.id, requested_amount_sek=300_000,
             submitted_at=datetime(2025, 5, 1, tzinfo=UTC))
    case(db, orebro, w.dep, stage=Stage.IDENTIFY_NEED, title="Aaa läxhjälp", requested_amount_sek=100_000,
             submitted_at=datetime(2026, 5, 1, tzinfo=UTC))
    c = case(db, ek, w.dep, stage=Stage.AGREEMENT, title="Ccc jour", officer_id=w.officer2.id, requested_amount_sek=200_000,
             submitted_at=datetime(2026, 5, 2, tzinfo=UTC))
    create_deadline(db, c, DeadlineKind.AGREEMENT_SIGNATURE, get_settings(), due_at=utcnow() - timedelta(days=1))  # overdue
    officer = Browserless(web.client).login(w.officer)

    page = officer.get("/arenden?org=örebro&sortera=title").text
    assert _titles(page) == ["Aaa läxhjälp", "Bbb läxhjälp"]
    assert 'aria-sort="ascending"' in _th(page, "Ärende") and "aria-sort" not in _th(page, "Organisation")
    assert page.count("aria-sort=") == 1
    # The sorted column's link reverses it and keeps the search; another column's link sorts by it, search kept.
    reverse = _href(page, "Ärende")
    assert parse_qs(urlsplit(reverse).query) == {"org": ["örebro"], "sortera": ["-title"]}
    page = officer.get(reverse).text
    assert _titles(page) == ["Bbb läxhjälp", "Aaa läxhjälp"] and 'aria-sort="descending"' in _th(page, "Ärende")
    assert "sortera stigande" in _th(page, "Ärende")  # the link says what a click does
    assert _titles(officer.get("/arenden?org=" + ek.orgnr.replace("-", "")).text) == ["Ccc jour"]

    assert _titles(officer.get("/arenden?sortera=-requested_amount_sek").text) == ["Bbb läxhjälp", "Ccc jour", "Aaa läxhjälp"]
    assert _titles(officer.get("/arenden?sortera=stage").text) == ["Aaa läxhjälp", "Bbb läxhjälp", "Ccc jour"]
    # K before Ö (code point order on both databases); within one organisation the id decides.
    assert _titles(officer.get("/arenden?sortera=organisation").text) == ["Ccc jour", "Bbb läxhjälp", "Aaa läxhjälp"]
    assert _titles(officer.get("/arenden?handlaggare=mina").text) == ["Bbb läxhjälp"]
    assert _titles(officer.get("/arenden?mina=ja").text) == ["Bbb läxhjälp"]  # older links
    assert _titles(officer.get("/arenden?handlaggare=ingen").text) == ["Aaa läxhjälp"]
    assert _titles(officer.get(f"/arenden?handlaggare={w.officer2.id}").text) == ["Ccc jour"]
    assert set(_titles(officer.get("/arenden?ar=2026").text)) == {"Aaa läxhjälp", "Ccc jour"}
    overdue = officer.get("/arenden?forsenade=ja").text
    assert _titles(overdue) == ["Ccc jour"] and "Försenat" in overdue
    assert _titles(officer.get("/arenden?skede=dialogue&skede=agreement&sortera=title").text) == ["Bbb läxhjälp", "Ccc jour"]
    assert _titles(officer.get("/arenden?q=jour&org=örebro").text) == []

    # The CSV has the same filter and order as the page.
    csv = officer.get("/export/arenden.csv?org=%C3%B6rebro&sortera=-title").content.decode("utf-8-sig").splitlines()
    assert [line.split(";")[1] for line in csv[1:]] == ["Bbb läxhjälp", "Aaa läxhjälp"]
    assert _href(page, "Exportera till CSV").startswith("/export/arenden.csv?")


def test_pages_keep_the_filter_and_the_sort(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    made = [case(db, w.org, w.dep, stage=Stage.DIALOGUE, title=f"Läxhjälp {n:02d}") for n in range(30)]
    case(db, w.other_org, w.dep, stage=Stage.DIALOGUE, title="Annat ärende")
    officer = Browserless(web.client).login(w.officer)
    first = officer.get(f"/arenden?org={w.org.orgnr}&sortera=-title").text
    assert _titles(first) == [f"Läxhjälp {n:02d}" for n in range(29, 4, -1)]
    nxt = _href(first, "Nästa sida")
    params = parse_qs(urlsplit(nxt).query)
    assert params["org"] == [w.org.orgnr] and params["sortera"] == ["-title"] and params["sida"]
    second = officer.get(nxt).text
    assert _titles(second) == [f"Läxhjälp {n:02d}" for n in range(4, -1, -1)]
    assert "Nästa sida" not in second and parse_qs(urlsplit(_href(second, "Första sidan")).query) == {"org": [w.org.orgnr], "sortera": ["-title"]}
    # Sorting anew starts from the first page (the cursor belongs to the old order).
    assert "sida=" not in _href(second, "Ärende")
    assert len(made) == 30


@pytest.mark.parametrize("query,message", [
    ("sortera=password", "Listan kan inte sorteras så"),
    ("sortera=--title", "Listan kan inte sorteras så"),
    ("ar=tjugo", "Ange året med fyra siffror"),
    ("ar=1800", "Året måste vara mellan 2000 och 2100"),
    ("skede=paused", "Välj ett skede i listan"),
    ("handlaggare=nagon", "Välj en handläggare i listan"),
    ("forvaltning=%C2%B2", "Välj en förvaltning i listan"),
    ("sida=inte-en-sida", "Sidan finns inte längre"),
    ("sortera=title&sida=WzEsIDJd", "Sidan finns inte längre"),  # a cursor of another sort ([1, 2]: a number, not a title)
    ("org=a%00b", "Söktexten får vara högst 200 tecken"),
])
def test_bad_list_values_get_a_swedish_message_not_a_500(web: Browserless, db: Session, query: str, message: str) -> None:  # noqa: F811
    w = World(db)
    case(db, w.org, w.dep, stage=Stage.DIALOGUE, title="Synligt ärende")
    registrar = Browserless(web.client).login(w.registrar)
    r = registrar.get(f"/arenden?{query}", expect=422)
    assert message in htmllib.unescape(r.text) and "error-summary" in r.text
    assert "Synligt ärende" not in r.text and r.headers["content-type"].startswith("text/html")
    if query.startswith("forvaltning"):  # an officer has no department field (one department): the message stands above the form
        page = Browserless(web.client).login(w.officer).get(f"/arenden?{query}", expect=422).text
        assert message in page and 'href="#filter-forvaltning"' not in page
    if "sida=" not in query:  # the export is the whole list: it has no pages
        assert registrar.get(f"/export/arenden.csv?{query}", expect=422).headers["content-type"].startswith("text/html")


def test_an_organisation_member_has_no_list_but_its_filters_show_only_visible_cases(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    ours = case(db, w.org, w.dep, stage=Stage.DIALOGUE, title="Vårt ärende")
    case(db, w.other_org, w.dep, stage=Stage.DIALOGUE, title="Deras ärende")
    Browserless(web.client).login(w.member).get("/arenden", expect=403)
    # An officer of another department searching for the organisation finds nothing of this department.
    other = World(db)
    page = Browserless(web.client).login(other.officer).get(f"/arenden?org={w.org.orgnr}").text
    assert _titles(page) == [] and "Inga ärenden matchar" in page
    assert ours.title in _titles(Browserless(web.client).login(w.officer).get(f"/arenden?org={w.org.orgnr}").text)


def _sheet_case(db: Session, w: World):  # noqa: ANN202
    """A case in the agreement stage with everything a sheet lists: terms, documents, signatures, a decision, deadlines."""
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id, title="Träffpunkt för äldre i Norrby",
             diarienummer=f"{w.dep.diarie_prefix} 2026/0042", requested_amount_sek=400_000, submitted_at=datetime(2026, 2, 3, 9, tzinfo=UTC))
    satisfy_gate(db, c, w)
    internal = add_document(db, c, DocumentKind.ATTACHMENT)
    internal.internal, internal.filename = True, "intern-promemoria.pdf"
    now = utcnow()
    db.add(Review(case_id=c.id, from_stage=Stage.DIALOGUE, to_stage=Stage.AGREEMENT, requested_by_id=w.officer.id, requested_at=now,
                  due_at=now + timedelta(days=10), status=ReviewStatus.APPROVED,
                  decided_by_id=w.approver.id, decided_at=now, motivation="Dialogen visar ett gemensamt identifierat behov."))
    db.add(StageChange(case_id=c.id, from_stage=Stage.DIALOGUE, to_stage=Stage.AGREEMENT, actor_id=w.approver.id, at=now))
    settings = get_settings()
    create_deadline(db, c, DeadlineKind.AGREEMENT_SIGNATURE, settings, due_at=datetime(2026, 12, 15, 12, tzinfo=UTC))
    create_deadline(db, c, DeadlineKind.TRIAGE, settings, due_at=datetime(2026, 12, 20, 12, tzinfo=UTC))
    db.flush()
    return c


def test_the_case_sheet_prints_the_facts_for_those_who_see_the_case(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = _sheet_case(db, w)
    officer = Browserless(web.client).login(w.officer)
    case_page = officer.get(f"/arenden/{c.id}").text
    assert _href(case_page, "Skriv ut ärendeblad") == f"/arenden/{c.id}/utskrift"
    sheet = htmllib.unescape(officer.get(f"/arenden/{c.id}/utskrift").text)
    nb = "\u00a0"
    for fact in (c.diarienummer, c.title, w.org.name, w.org.orgnr, w.dep.name, w.officer.full_name, "Överenskommelse",
                 f"400{nb}000{nb}kr",  # requested and funded, grouped
                 "2027-01-01 – 2028-12-31",  # the planned and the agreed period
                 f"200{nb}000{nb}kr", "2027-01-15",  # an instalment
                 "2026-12-15", "2026-12-20",  # deadlines (the officer also sees the triage deadline)
                 "Dialogen visar ett gemensamt identifierat behov.", w.approver.full_name,  # the decision
                 "Eva Ek", "Förvaltningschef", "2026-11-01",  # a signature
                 "agreement.docx", "intern-promemoria.pdf",  # documents, the internal one for the administration
                 "2026-02-03", "Utskrivet", w.officer.full_name):
        assert fact in sheet, fact
    assert "Ärendet gick till skedet Överenskommelse" in sheet.split("Händelser", 1)[1]  # the history lists the stage change
    assert 'data-print' in sheet and "@media print" not in sheet  # the print rules live in app.css

    member_sheet = htmllib.unescape(Browserless(web.client).login(w.member).get(f"/arenden/{c.id}/utskrift").text)
    assert c.diarienummer in member_sheet and "Eva Ek" in member_sheet and "2026-12-15" in member_sheet
    assert "intern-promemoria.pdf" not in member_sheet and "2026-12-20" not in member_sheet  # internal document and deadline stay inside
    assert c.diarienummer in Browserless(web.client).login(w.registrar).get(f"/arenden/{c.id}/utskrift").text

    for outsider in (w.other_member, w.admin, World(db).officer):
        page = Browserless(web.client).login(outsider).get(f"/arenden/{c.id}/utskrift", expect=404).text
        assert c.title not in page and "Sidan finns inte" in page
    web.client.cookies.clear()
    r = web.client.get(f"/arenden/{c.id}/utskrift", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/logga-in")


def test_the_print_rules_hide_navigation_and_forms() -> None:
    """app.css: on paper the menu, header, footer, breadcrumbs, forms and buttons are not printed."""
    from service.web.rendering import STATIC_DIR

    css = (STATIC_DIR / "app.css").read_text()
    rules = " ".join(re.findall(r"@media print\s*\{(.*?)\n\}", css, flags=re.S))
    for selector in (".site-header", ".main-nav", ".site-footer", ".breadcrumbs", ".no-print", "form", ".actions"):
        assert re.search(re.escape(selector) + r"[^{]*\{[^}]*display:\s*none", rules), selector
