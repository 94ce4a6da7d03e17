"""The statistics page /statistik and its downloads, against the real services on SQLite and PostgreSQL (no browser)."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
import xml.etree.ElementTree as ET

import openpyxl
from factories import auth
from sqlalchemy.orm import Session
from statistik_world import build, expected

from service.db import utcnow
from service.web.labels import number, sek
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)


def _svg(page: str, chart_id: str) -> ET.Element:
    m = re.search(r'<svg[^>]* id="' + chart_id + r'".*?</svg>', page, flags=re.S)
    assert m, chart_id
    return ET.fromstring(m.group(0))


def _bars(root: ET.Element) -> list[float]:
    """The values of the drawn (non-zero) bars."""
    values = [float(r.get("data-value")) for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "chart__bar"]
    return [v for v in values if v]


def test_the_page_shows_charts_tables_and_downloads_for_the_chosen_department(web: Browserless, db: Session) -> None:  # noqa: F811
    w = build(db)
    officer = Browserless(web.client).login(w.officer)
    page = officer.get("/statistik").text
    assert '<a class="main-nav__link" href="/statistik" aria-current="page">Statistik</a>' in page
    assert "Statistikförvaltningen A" in page  # an officer starts with their own department
    want = expected("A", None, utcnow())
    # The partnership chart draws every (year, stage) count; its table and the key figure give the same total.
    assert sorted(_bars(_svg(page, "stat-partnerskap"))) == sorted(float(n) for n in want["cells"].values())
    assert f'<span class="kpi__value">{number(want["total"])}</span>' in page
    funding = _svg(page, "stat-finansiering")
    assert sorted(_bars(funding)) == sorted(float(v) for v in [*want["decided"].values(), *want["paid"].values()] if v)
    assert funding.find("{http://www.w3.org/2000/svg}title").text == "Beslutad och utbetald finansiering per år"
    assert f'<span class="kpi__value">{sek(sum(want["decided"].values()))}</span>' in page
    assert 'href="/statistik.csv?forvaltning=' + str(w.deps["A"].id) in page
    # The organisations line: one point per year for partnerships and for organisations.
    points = [float(p.get("data-value")) for p in _svg(page, "stat-organisationer").iter() if p.get("class") == "chart__point"]
    per_year = {}
    for (y, _), n in want["cells"].items():
        per_year[y] = per_year.get(y, 0) + n
    assert points == [float(per_year[y]) for y in sorted(per_year)] + [float(want["organisations_per_year"][y]) for y in sorted(per_year)]
    # The overdue cases are the officer's own list's when the page shows the own department.
    assert '<a href="/arenden?forsenade=ja">' in page

    # Another department, the whole municipality, one year.
    page_b = officer.get(f"/statistik?forvaltning={w.deps['B'].id}&ar=2025").text
    assert "Statistikförvaltningen B, 2025" in htmllib.unescape(page_b)
    assert sorted(_bars(_svg(page_b, "stat-partnerskap"))) == sorted(float(n) for n in expected("B", 2025, utcnow())["cells"].values())
    assert "/arenden?forsenade=ja" not in officer.get(f"/statistik?forvaltning={w.deps['B'].id}").text  # not the officer's list
    everything = officer.get("/statistik?forvaltning=all").text
    assert f'<span class="kpi__value">{number(expected(None, None, utcnow())["total"])}</span>' in everything

    # The page's downloads are the API's figures.
    web_csv = officer.get(f"/statistik.csv?forvaltning={w.deps['A'].id}&ar=2025")
    api_csv = web.client.get("/api/v1/statistics.csv", params={"department_id": w.deps["A"].id, "year": 2025}, headers=auth(w.officer))
    assert web_csv.content == api_csv.content
    rows = list(csv.reader(io.StringIO(web_csv.content.decode("utf-8-sig")), delimiter=";"))
    assert ["Partnerskap per år", "Antal partnerskap", "2025", "Totalt", str(expected("A", 2025, utcnow())["total"])] in rows
    book = openpyxl.load_workbook(io.BytesIO(officer.get(f"/statistik.xlsx?forvaltning={w.deps['A'].id}&ar=2025").content))
    assert ("Partnerskap per år", "Antal partnerskap", 2025, "Totalt", expected("A", 2025, utcnow())["total"]) in list(
        book["Statistik"].iter_rows(values_only=True))


def test_bad_filters_are_said_on_the_form_and_members_are_refused(web: Browserless, db: Session) -> None:  # noqa: F811
    w = build(db)
    registrar = Browserless(web.client).login(w.registrar)
    page = registrar.get("/statistik?forvaltning=socialen&ar=tjugo", expect=422).text
    assert 'class="error-summary"' in page
    assert "Välj en förvaltning i listan" in page and "Ange ett årtal med fyra siffror" in page
    assert 'aria-invalid="true"' in page and 'class="chart ' not in page
    assert registrar.get("/statistik?forvaltning=999999", expect=422)
    registrar.get("/statistik.csv?ar=1999", expect=422)
    assert "Hela kommunen" in registrar.get("/statistik").text
    member = Browserless(web.client).login(w.member)
    member.get("/statistik", expect=403)
    member.get("/statistik.xlsx", expect=403)
    assert 'href="/statistik"' not in member.get("/start").text
