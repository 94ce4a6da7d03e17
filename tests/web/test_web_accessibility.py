"""Accessibility smoke check of the main pages in a real browser (labels, language, headings, landmarks)."""

from __future__ import annotations

from playwright.sync_api import Page

AUDIT = """() => {
  const problems = [];
  if (document.documentElement.lang !== "sv") problems.push("html lang is not sv");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) problems.push(`expected one h1, found ${h1}`);
  if (document.querySelectorAll("main").length !== 1) problems.push("expected one main landmark");
  if (!document.querySelector("header") || !document.querySelector("footer")) problems.push("header/footer landmark missing");
  const skip = document.querySelector("a.skip-link");
  if (!skip || !document.querySelector(skip.getAttribute("href"))) problems.push("skip link missing or broken");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const labelled = [...(el.labels || [])].some(l => l.textContent.trim()) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!labelled) problems.push(`no label: ${el.name || el.id}`);
  }
  const ids = [...document.querySelectorAll("[id]")].map(e => e.id);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length) problems.push(`duplicate ids: ${[...new Set(dupes)].join(", ")}`);
  for (const el of document.querySelectorAll("[aria-describedby]")) {
    for (const ref of el.getAttribute("aria-describedby").split(/\\s+/)) {
      if (!document.getElementById(ref)) problems.push(`aria-describedby points nowhere: ${ref}`);
    }
  }
  for (const img of document.querySelectorAll("img:not([alt])")) problems.push(`img without alt: ${img.src}`);
  for (const a of document.querySelectorAll("a, button")) {
    if (!a.textContent.trim() && !a.getAttribute("aria-label")) problems.push(`control without name: ${a.outerHTML.slice(0, 60)}`);
  }
  return problems;
}"""


def _audit(page: Page, path: str) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response.status if response else 'no response'}"
    return [f"{path}: {p}" for p in page.evaluate(AUDIT)]


def test_main_pages_pass_the_accessibility_smoke_check(login, new_context, world) -> None:  # noqa: ANN001
    problems: list[str] = []
    anonymous = new_context().new_page()
    problems += _audit(anonymous, "/logga-in")
    # The first Tab lands on the skip link, which is then visible.
    anonymous.keyboard.press("Tab")
    assert anonymous.evaluate("document.activeElement.className") == "skip-link"
    assert anonymous.locator(".skip-link").bounding_box()["y"] >= 0

    member = login(world.member)
    for path in ("/start", "/forslag/nytt", "/organisation", f"/arenden/{world.review_case_id}", "/om-iop", "/notiser"):
        problems += _audit(member, path)
    officer = login(world.officer)
    for path in ("/arbetsko", "/arenden", "/oversikt", f"/arenden/{world.review_case_id}",
                 f"/arenden/{world.review_case_id}/dialog", f"/arenden/{world.review_case_id}/avtal"):
        problems += _audit(officer, path)
    approver = login(world.approver2)
    for path in ("/arbetsko", f"/arenden/{world.review_case_id}/beslut"):
        problems += _audit(approver, path)
    admin = login(world.admin)
    problems += _audit(admin, "/admin")
    problems += _audit(admin, admin.locator('a[href$="/frister"]').first.get_attribute("href"))  # a department's deadlines
    assert not problems, "\n".join(problems)


def test_case_page_fits_a_phone_screen(login, world) -> None:  # noqa: ANN001
    page = login(world.officer, viewport={"width": 360, "height": 740})
    for path in (f"/arenden/{world.review_case_id}", "/arbetsko", "/oversikt"):
        page.goto(path)
        # Wide tables scroll inside their own region; the page itself must not scroll sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
