"""In Chromium: the statistics page draws its charts with their tables for the department picked in the form
(screenshot in docs/screenshots/statistik.png), and axe-core finds nothing serious there (when it is installed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session
from statistik_world import build, expected

from service.db import make_engine, utcnow
from tests.web.test_web_accessibility import AUDIT, AXE_JS, _axe

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "statistik.png"


@pytest.fixture(scope="module")
def stats_department(live) -> Iterator[str]:  # noqa: ANN001
    """The statistics test world in the live server's database (two departments of their own); department A's name."""
    server, _ = live
    engine = make_engine(server.db_url)
    try:
        with Session(engine, expire_on_commit=False) as s:
            w = build(s)
            name = w.deps["A"].name
            s.commit()
    finally:
        engine.dispose()
    yield name


def test_the_statistics_page_draws_its_charts(login: Callable[..., Page], world, stats_department) -> None:  # noqa: ANN001
    page = login(world.registrar, bypass_csp=True, viewport={"width": 1280, "height": 900})  # the CSP is lifted only for axe-core
    page.get_by_role("link", name="Statistik").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistik")
    expect(page.get_by_label("Förvaltning", exact=True)).to_have_value("all")  # a registrar starts with the whole municipality
    page.get_by_label("Förvaltning", exact=True).select_option(label=stats_department)
    page.get_by_role("button", name="Visa").click()
    expect(page.locator(".eyebrow")).to_have_text(stats_department)

    want = expected("A", None, utcnow())
    chart = page.get_by_role("img", name="Partnerskap per år och skede")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box and box["width"] > 400 and box["height"] > 150  # drawn at a readable size, not collapsed
    bars = page.locator("#stat-partnerskap .chart__bar")
    drawn = [float(v) for v in bars.evaluate_all("els => els.map(e => e.getAttribute('data-value'))") if float(v)]
    assert sorted(drawn) == sorted(float(n) for n in want["cells"].values())
    # Each drawn bar has a real height on screen, proportional to its value.
    heights = bars.evaluate_all("els => els.filter(e => +e.dataset.value > 0).map(e => [+e.dataset.value, e.getBoundingClientRect().height])")
    per_unit = [h / v for v, h in heights]
    assert min(per_unit) > 0 and max(per_unit) == pytest.approx(min(per_unit), rel=0.02)
    funding = page.get_by_role("img", name="Beslutad och utbetald finansiering per år")
    expect(funding).to_be_visible()
    # The description a screen reader reads names the figures; the table beside the chart holds them too.
    assert "Beslutat" in (page.locator("#stat-finansiering-desc").text_content() or "")
    expect(page.get_by_role("table", name="Partnerskap per år och skede")).to_be_visible()
    expect(page.get_by_role("link", name="Ladda ner Excel")).to_have_attribute("href", "/statistik.xlsx?forvaltning=" + page.url.split("forvaltning=")[1].split("&")[0])

    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner CSV").click()
    assert download.value.suggested_filename.startswith("iop-statistik-forvaltning-")

    problems = [f"statistics: {p}" for p in page.evaluate(AUDIT)] + (_axe(page, "statistics") if AXE_JS.exists() else [])
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert not problems, "\n".join(problems)


def test_the_statistics_page_fits_a_phone_screen(login: Callable[..., Page], world, stats_department) -> None:  # noqa: ANN001
    page = login(world.officer, viewport={"width": 360, "height": 740})
    page.goto("/statistik?forvaltning=all")
    expect(page.get_by_role("img", name="Beslutad och utbetald finansiering per år")).to_be_visible()
    # The charts shrink to the screen; wide tables scroll inside their own (focusable) region, never the page.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"/statistik is {overflow}px wider than the screen"
    widths = page.locator("svg.chart").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    assert widths and max(widths) <= 360
