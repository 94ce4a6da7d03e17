"""The agreement form's goals and indicators section: saved into the terms, values of the wrong unit said on the field."""

from __future__ import annotations

import html
import re

from factories import World, case
from sqlalchemy import select

from service.agreements.models import Agreement, AgreementIndicator
from service.cases.stages import Stage
from tests.web.test_web_forms import Browserless, _terms_form, web  # noqa: F401  (the web fixture)

INDICATOR = {"goals-0-indicators-0-name": "Deltagare", "goals-0-indicators-0-unit": "count", "goals-0-indicators-0-baseline": "120",
             "goals-0-indicators-0-target": "1 200", "goals-0-indicators-0-how_measured": "Närvarolistor"}


def test_goals_and_indicators_on_the_agreement_form(web, db) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    officer = Browserless(web.client).login(w.officer)
    url = f"/arenden/{c.id}/avtal"
    page = officer.get(url).text
    assert 'id="avsnitt-mal"' in page and "Mål och indikatorer" in page and 'name="goals-0-indicators-0-unit"' in page

    # A percent over 100 and a count with decimals: each said on its own field, in Swedish, nothing saved.
    form = {**_terms_form(w.org.name, w.org.orgnr), "version": "0", **INDICATOR, "goals-0-indicators-0-target": "12,5",
            "goals-1-indicators-0-name": "Andel nöjda", "goals-1-indicators-0-unit": "percent", "goals-1-indicators-0-target": "150",
            "goals-1-indicators-0-how_measured": "Enkät", "goals-1-indicators-0-periods-1": "2029-02-28"}
    r = officer.post(url, {**form, "action": "klart"}, expect=422)
    text = html.unescape(r.text)
    assert "Antal anges i heltal, utan decimaler" in text and "Procent anges mellan 0 och 100" in text
    assert 'href="#avtal-goals-0-indicators-0-target"' in r.text and 'href="#avtal-goals-1-indicators-0-target"' in r.text
    assert 'value="Andel nöjda"' in r.text  # what was typed is kept
    assert db.scalar(select(Agreement).where(Agreement.case_id == c.id)) is None

    form |= {"goals-0-indicators-0-target": "1 200", "goals-1-indicators-0-target": "62,5"}
    officer.post(url, {**form, "action": "klart"})
    db.expire_all()
    goals = db.scalar(select(Agreement).where(Agreement.case_id == c.id)).terms["goals"]
    assert goals[0]["indicators"] == [{"name": "Deltagare", "unit": "count", "baseline": 120, "target": 1200, "how_measured": "Närvarolistor",
                                       "periods": []}]
    assert goals[1]["indicators"][0] == {"name": "Andel nöjda", "unit": "percent", "baseline": None, "target": 62.5, "how_measured": "Enkät",
                                         "periods": ["2029-02-28"]}
    assert {i.name for i in db.scalars(select(AgreementIndicator).where(AgreementIndicator.case_id == c.id))} == {"Deltagare", "Andel nöjda"}

    # The saved form shows them again, the chosen report ticked.
    page = officer.get(url).text
    assert 'value="1200"' in page and 'value="62,5"' in page
    assert 'name="goals-1-indicators-0-periods-1" value="2029-02-28" checked' in page
    unticked = re.search(r'<input[^>]*name="goals-0-indicators-0-periods-0"[^>]*>', page).group(0)
    assert 'value="2028-01-31"' in unticked and "checked" not in unticked  # none ticked: every report
