"""In Chromium: the case page draws each indicator over time (target vs achieved per report period) and money used vs
planned, each chart with its table (screenshot in docs/screenshots/indikatorer.png); axe-core finds nothing serious."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import make_engine
from tests.web.test_web_accessibility import AUDIT, AXE_JS, _axe

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "indikatorer.png"


def _case_with_reported_indicators(server, world) -> int:  # noqa: ANN001
    """A case in follow-up whose year report gave its indicators' values and was rated, in the live server's database."""
    import factories
    from gates_setup import terms_payload

    from service.agreements import service as agreements
    from service.agreements.models import AgreementIndicator
    from service.agreements.schemas import AgreementTerms
    from service.auth.models import User
    from service.cases.stages import Stage
    from service.config import get_settings
    from service.deadlines.rules import schedule_followup
    from service.departments.models import Department
    from service.followup import service as followup
    from service.followup.models import FollowUpReport
    from service.followup.schemas import AssessmentIn, ReportContent
    from service.organisations.models import Organisation
    from tests.followup.test_indicators import goals_payload

    engine = make_engine(server.db_url)
    try:
        with Session(engine, expire_on_commit=False) as s:
            officer = s.scalar(select(User).where(User.email == world.officer))
            member = s.scalar(select(User).where(User.email == world.member))
            org, dep = s.get(Organisation, member.organisation_id), s.get(Department, officer.department_id)
            c = factories.case(s, org, dep, stage=Stage.AGREEMENT, officer_id=officer.id, title="Indikatorer i Norrby")
            agreements.save_terms(s, officer, c, AgreementTerms.model_validate({**terms_payload(org.name, org.orgnr), "goals": goals_payload()}))
            c.stage = Stage.FOLLOW_UP
            s.flush()
            schedule_followup(s, c.id, get_settings())
            year = s.scalars(select(FollowUpReport).where(FollowUpReport.case_id == c.id).order_by(FollowUpReport.due_on)).first()
            ids = {i.name: i.id for i in s.scalars(select(AgreementIndicator).where(AgreementIndicator.case_id == c.id))}
            followup.submit(s, member, c, year.id, ReportContent.model_validate({
                "activities_done": "Träffpunkt 140 gånger", "participants_reached": 210, "money_used_sek": 150_000,
                "indicator_values": [{"indicator_id": ids["Deltagare"], "value": 150}, {"indicator_id": ids["Ideella timmar"], "value": 412.5}]}),
                today=date(2028, 6, 1))
            followup.assess(s, officer, c, year.id, AssessmentIn.model_validate({"assessment": "needs_completion", "comment": "Bifoga tidrapporter",
                "indicators": [{"indicator_id": ids["Deltagare"], "rating": "partly"}]}))
            s.commit()
            return c.id
    finally:
        engine.dispose()


def test_the_case_page_draws_the_indicators(login: Callable[..., Page], server, world) -> None:  # noqa: ANN001
    case_id = _case_with_reported_indicators(server, world)
    page = login(world.officer, bypass_csp=True, viewport={"width": 1280, "height": 900})  # the CSP is lifted only for axe-core
    page.goto(f"/arenden/{case_id}#indikatorer")
    chart = page.get_by_role("img", name="Deltagare: målvärde och uppnått per rapportperiod")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 150  # drawn at a readable size
    values = page.locator("#indikator-1 .chart__point").evaluate_all("els => els.map(e => +e.dataset.value)")
    assert 150 in values and 200 in values and 120 in values  # achieved, target and baseline drawn
    # The achieved point sits below the target line on screen (higher value = higher up).
    ys = page.locator("#indikator-1 .chart__point").evaluate_all(
        "els => Object.fromEntries(els.map(e => [String(+e.dataset.value), e.getBoundingClientRect().top]))")
    assert ys["150"] > ys["200"]
    expect(page.get_by_role("table", name="Deltagare per rapportperiod")).to_be_visible()
    expect(page.get_by_role("img", name="Använda medel och planerade utbetalningar, sammanlagt")).to_be_visible()
    expect(page.get_by_role("table", name="Använda medel och planerade utbetalningar")).to_contain_text("150\u00a0000")

    problems = [f"indicators: {p}" for p in page.evaluate(AUDIT)] + (_axe(page, "indicators") if AXE_JS.exists() else [])
    page.locator("#indikatorer").screenshot(path=str(SCREENSHOT))
    assert not problems, "\n".join(problems)
