"""In Chromium: the case list sorts by its column headings (aria-sort follows), searches by organisation from the form,
and the case sheet prints without navigation; axe-core finds nothing serious on these pages (when it is installed)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.test_web_accessibility import AUDIT, AXE_JS, _axe


def _audit(page: Page, state: str) -> list[str]:
    problems = [f"{state}: {p}" for p in page.evaluate(AUDIT)]
    return problems + (_axe(page, state) if AXE_JS.exists() else [])


def test_sorting_searching_and_printing_in_a_browser(login: Callable[..., Page], world) -> None:  # noqa: ANN001
    page = login(world.officer, bypass_csp=True)  # the CSP is lifted only so axe-core can be injected
    page.goto("/arenden")
    problems = _audit(page, "case list")

    page.get_by_label("Organisation", exact=True).fill("gemenskap webb")
    page.get_by_role("button", name="Sök").click()
    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    assert all("Föreningen Gemenskap Webb" in t for t in rows.all_inner_texts())

    heading = page.get_by_role("columnheader", name="Ärende")
    page.get_by_role("link", name=re.compile(r"^Ärende\s*, sortera stigande")).click()
    expect(heading).to_have_attribute("aria-sort", "ascending")
    titles = page.locator("table tbody tr td:nth-child(2) a").all_inner_texts()
    assert titles == sorted(titles)
    assert page.get_by_label("Organisation", exact=True).input_value() == "gemenskap webb"  # the search is kept
    page.get_by_role("link", name=re.compile(r"^Ärende\s*, sortera fallande")).click()
    expect(heading).to_have_attribute("aria-sort", "descending")
    assert page.locator("table tbody tr td:nth-child(2) a").all_inner_texts() == sorted(titles, reverse=True)
    problems += _audit(page, "case list sorted and searched")

    page.goto("/arenden?ar=tjugo")
    expect(page.locator(".error-summary")).to_contain_text("Inskickat år: ange året med fyra siffror")
    problems += _audit(page, "case list with an invalid year")

    page.goto(f"/arenden/{world.review_case_id}")
    page.get_by_role("link", name="Skriv ut ärendeblad").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Träffpunkt i Söderby")
    print_button = page.get_by_role("button", name="Skriv ut")
    expect(print_button).to_be_visible()  # shown by app.js
    problems += _audit(page, "case sheet")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".breadcrumbs"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(print_button).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".sheet__id")).to_contain_text("WEB 2025/0001")
    expect(page.locator(".sheet__id")).to_be_visible()
    assert not problems, "\n".join(problems)
