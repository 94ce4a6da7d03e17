"""The case page's follow-up with indicators: the report form takes each indicator's value, the officer rates each, and
the page charts target vs achieved per period (SVG with title, description and a data table) and money used vs planned."""

from __future__ import annotations

import html
import re

from factories import World, auth, case
from sqlalchemy import select

from service.cases.stages import Stage
from service.config import get_settings
from service.deadlines.rules import schedule_followup
from service.followup.models import FollowUpReport
from tests.followup.test_indicators import goals_payload, _indicator_ids
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the web fixture)
from gates_setup import terms_payload


def _case_in_follow_up(web, db, w):  # noqa: ANN001, ANN202, F811
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    r = web.client.put(f"/api/v1/cases/{c.id}/agreement", json={**terms_payload(w.org.name, w.org.orgnr), "goals": goals_payload()},
                       headers=auth(w.officer))
    assert r.status_code == 200, r.text
    c.stage = Stage.FOLLOW_UP
    db.flush()
    schedule_followup(db, c.id, get_settings())
    year = db.scalars(select(FollowUpReport).where(FollowUpReport.case_id == c.id).order_by(FollowUpReport.due_on)).first()
    return c, year


def test_report_rating_and_chart_on_the_case_page(web, db) -> None:  # noqa: F811
    w = World(db)
    c, year = _case_in_follow_up(web, db, w)
    ids = _indicator_ids(db, c)
    member = Browserless(web.client).login(w.member)
    url = f"/arenden/{c.id}/uppfoljning/{year.id}/lamna"
    page = member.get(f"/arenden/{c.id}").text
    report_form = re.search(rf'<form[^>]*action="{url}".*?</form>', page, re.S).group(0)
    assert f'name="value-{ids["Deltagare"]}"' in report_form and f'name="value-{ids["Ideella timmar"]}"' in report_form
    assert f'name="value-{ids["Andel som känner sig mindre ensamma"]}"' not in report_form  # due in the final report only

    form = {"activities_done": "Träffpunkt 140 gånger", "participants_reached": "210", "money_used_sek": "150 000",
            f"value-{ids['Deltagare']}": "150,5", f"value-{ids['Ideella timmar']}": "412,5", f"comment-{ids['Ideella timmar']}": "Tidrapporter"}
    r = member.post(url, form, expect=422)
    assert "Antal anges i heltal" in html.unescape(r.text) and f'href="#report-{year.id}-value-{ids["Deltagare"]}"' in r.text
    db.expire_all()
    assert db.get(FollowUpReport, year.id).submitted_at is None
    member.post(url, {**form, f"value-{ids['Deltagare']}": "150"})

    officer = Browserless(web.client).login(w.officer)
    assess = f"/arenden/{c.id}/uppfoljning/{year.id}/bedom"
    r = officer.post(assess, {"assessment": "approved", f"rating-{ids['Deltagare']}": "partly"}, expect=422)
    assert "Bedöm om målet för Ideella timmar är uppnått" in html.unescape(r.text)
    officer.post(assess, {"assessment": "approved", f"rating-{ids['Deltagare']}": "partly", f"rating_comment-{ids['Deltagare']}": "150 av 200",
                          f"rating-{ids['Ideella timmar']}": "met"})
    db.expire_all()
    assert {r.indicator_id: r.rating for r in db.get(FollowUpReport, year.id).results} == {ids["Deltagare"]: "partly", ids["Ideella timmar"]: "met"}

    page = officer.get(f"/arenden/{c.id}").text
    assert 'id="indikatorer"' in page
    svg = re.search(r'<svg[^>]*id="indikator-1"[^>]*>.*?</svg>|<svg[^>]*aria-labelledby="indikator-1[^"]*"[^>]*>.*?</svg>', page, re.S)
    assert svg, "the first indicator's chart"
    chart = svg.group(0)
    assert "<title" in chart and "<desc" in chart and "Deltagare: målvärde och uppnått per rapportperiod" in chart
    assert 'data-value="150' in chart and 'data-value="200' in chart  # achieved and target drawn
    table = re.search(r'<table[^>]*id="indikator-1-tabell".*?</table>', page, re.S).group(0)
    assert "Uppnått" in table and "Målvärde" in table and "150\u00a0st" in table and "200\u00a0st" in table
    money = re.search(r'<table[^>]*id="medel-tabell".*?</table>', page, re.S).group(0)
    assert "150\u00a0000" in html.unescape(money) and "400\u00a0000" in html.unescape(money)
    assert "Delvis uppnått: 150 av 200" in page
