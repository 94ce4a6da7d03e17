"""Accessibility of every page state in a real browser: axe-core (WCAG 2.1 A/AA) on every page for every role, forms
shown with their validation errors and the conflict view included, plus a hand-written check of what axe does not
cover (one h1, the skip link, header/footer, language)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
# Installed by `make test` (make axe) from tests/fixtures/axe/package-lock.json.
AXE_JS = ROOT / "tests" / "fixtures" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices (landmark-unique: no two landmarks with the same name).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING = {"critical", "serious", "moderate"}
CONFLICT = "[id$='-conflict-title']"  # the conflict view: the other person's version beside one's own

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
    if (el.type === "hidden" || el.closest("[hidden]")) continue;  // not rendered (a password manager's username field)
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

# Every collapsed section is opened first, so the forms inside <details> are checked too.
AXE_RUN = """async (tags) => {
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({impact: n.impact, target: n.target, summary: n.failureSummary}))}));
}"""

# Sets the named fields of a form (by CSS selector) and submits it as a person would, whatever <details> hides it.
SUBMIT = """([selector, values]) => {
  const form = document.querySelector(selector);
  if (!form) throw new Error(`no form ${selector}`);
  for (const [name, value] of Object.entries(values)) {
    for (const el of form.querySelectorAll(`[name="${name}"]`)) {
      if (el.type === "radio" || el.type === "checkbox") el.checked = el.value === value;
      else el.value = value;
    }
  }
  form.requestSubmit();
}"""


def _axe(page: Page, state: str) -> list[str]:
    """axe-core's serious, critical and moderate WCAG 2.1 A/AA violations on the page as it is now, one line per element."""
    page.add_script_tag(path=str(AXE_JS))
    out = []
    for v in page.evaluate(AXE_RUN, AXE_TAGS):
        for node in v["nodes"]:
            impact = node["impact"] or v["impact"]
            if impact in FAILING:
                summary = " ".join((node["summary"] or "").split())[:300]
                out.append(f"{state} ({page.url}): {v['id']} [{impact}] {' '.join(map(str, node['target']))} – {summary}")
    return out


class Auditor:
    """Visits page states in one browser page per role and collects axe's and the hand-written audit's findings."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.states = 0

    def check(self, page: Page, state: str) -> None:
        """Audit the page as it is shown now."""
        self.states += 1
        self.problems += [f"{state} ({page.url}): {p}" for p in page.evaluate(AUDIT)]
        self.problems += _axe(page, state)

    def visit(self, page: Page, path: str, state: str | None = None, status: int = 200) -> None:
        """Open the page and audit it."""
        response = page.goto(path)
        got = response.status if response else None
        if got != status:
            self.problems.append(f"{state or path}: {path} answered {got}, expected {status}")
            return
        self.check(page, state or path)

    def submit(self, page: Page, form: str, state: str, values: dict[str, str] | None = None, shows: str = ".error-summary") -> None:
        """Fill and post a form on the current page so that it comes back with errors (or the conflict view) and audit that."""
        with page.expect_navigation():
            page.evaluate(SUBMIT, [form, values or {}])
        if not page.locator(shows).count():
            self.problems.append(f"{state} ({page.url}): the answer shows no {shows}")
            return
        self.check(page, state)


@pytest.fixture
def audit_login(login: Callable[..., Page]) -> Callable[[str], Page]:
    """A logged-in page whose Content-Security-Policy lets the test inject axe-core (the app itself runs no inline script)."""
    return lambda email: login(email, bypass_csp=True)


def test_every_page_state_passes_axe_and_the_smoke_check(audit_login, new_context, world, page_states, server) -> None:  # noqa: ANN001
    if not AXE_JS.exists():
        missing = f"axe-core is not installed at {AXE_JS}: run `make axe` (npm ci in tests/fixtures/axe)"
        if os.environ.get("IOP_TEST_REQUIRE_BROWSER") == "1":  # as for the browser itself: CI must run this test
            pytest.fail(missing)
        pytest.skip(missing)
    started = time.monotonic()
    a = Auditor()
    st = page_states

    anonymous = new_context(bypass_csp=True).new_page()
    a.visit(anonymous, "/logga-in", "login")
    # The first Tab lands on the skip link, which is then visible.
    anonymous.keyboard.press("Tab")
    assert anonymous.evaluate("document.activeElement.className") == "skip-link"
    assert anonymous.locator(".skip-link").bounding_box()["y"] >= 0
    a.submit(anonymous, "form[action='/logga-in']", "login with errors", {"email": "", "password": ""})
    a.visit(anonymous, "/skapa-konto", "sign-up")
    a.submit(anonymous, "form[action='/skapa-konto']", "sign-up with errors", {"account_email": "inte-en-adress", "orgnr": "123"})
    a.visit(anonymous, "/glomt-losenord", "password forgotten")
    a.submit(anonymous, "form[action='/glomt-losenord']", "password forgotten with errors", {"email": "inte-en-adress"})
    a.visit(anonymous, "/aterstall-losenord?token=ogiltig", "password reset")
    a.submit(anonymous, "form[action='/aterstall-losenord']", "password reset with errors",
             {"new_password": "kort", "repeat": "annat"})
    a.visit(anonymous, "/bekrafta-konto?token=ogiltig", "account confirmation")
    a.visit(anonymous, "/om-iop", "about IOP")
    a.visit(anonymous, "/tillganglighet", "accessibility statement")
    a.visit(anonymous, "/offentligt", "public register")
    a.visit(anonymous, "/offentligt?fran=1%20mars&till=2026-01-01", "public register with errors", status=422)
    a.visit(anonymous, "/arendn/12", "404 anonymous", status=404)

    new_member = audit_login(world.new_member)
    a.visit(new_member, "/start", "member without organisation: start")
    a.visit(new_member, "/organisation/registrera", "organisation registration")
    a.submit(new_member, "form[action='/organisation/registrera']", "organisation registration with errors",
             {"name": "", "orgnr": "123"})

    member = audit_login(world.member)
    a.visit(member, "/start", "member start")
    a.visit(member, "/forslag/nytt", "proposal form new")
    a.submit(member, "form[action='/forslag/nytt']", "proposal form with errors", {"title": "", "requested_amount_sek": "många"})
    a.visit(member, "/organisation", "organisation")
    a.submit(member, "form[action='/organisation']", "organisation with errors", {"name": "", "orgnr": "123"})
    a.visit(member, f"/arenden/{st.draft_id}", "member case draft")
    a.visit(member, f"/arenden/{st.draft_id}/redigera", "proposal edit form")
    a.submit(member, f"form[action='/arenden/{st.draft_id}/redigera']", "proposal edit form with errors", {"title": ""})
    a.visit(member, f"/arenden/{st.draft_id}/redigera", "proposal edit form")
    a.submit(member, f"form[action='/arenden/{st.draft_id}/redigera']", "proposal edit conflict view", {"version": "0"},
             shows=CONFLICT)
    a.visit(member, f"/arenden/{world.review_case_id}", "member case submitted")
    a.visit(member, f"/arenden/{st.completion_id}", "member case needs completion")
    a.submit(member, f"form[action='/arenden/{st.completion_id}/meddelanden']", "member message with errors", {"body": ""})
    a.visit(member, f"/arenden/{st.signed_id}", "member case agreement")
    a.visit(member, f"/arenden/{st.followup_id}", "member case follow-up with report form")
    from tests.web.test_web_indicators_browser import _case_with_reported_indicators  # here: that module imports this one

    indicators_id = _case_with_reported_indicators(server, world)
    a.visit(member, f"/arenden/{indicators_id}", "member case with indicator charts and a report to complete")
    report = member.locator("form[action*='/uppfoljning/'][action$='/lamna']").last.get_attribute("action")
    a.submit(member, f"form[action='{report}']", "report form with errors",
             {"activities_done": "", "participants_reached": "många", "money_used_sek": ""})
    a.visit(member, f"/arenden/{st.rejected_id}", "member case rejected")
    a.visit(member, f"/arenden/{st.followup_id}/utskrift", "member printable case sheet")
    a.visit(member, "/notiser", "member notifications")
    a.visit(member, "/konto/notiser", "notification settings")
    a.submit(member, "form[action='/konto/notiser']", "notification settings with errors", {"channels": "brevduva"})
    a.visit(member, "/konto/losenord", "password change")
    a.submit(member, "form[action='/konto/losenord']", "password change with errors", {"new_password": "kort"})
    a.visit(member, "/arendn/12", "404 member", status=404)

    officer = audit_login(world.officer)
    a.visit(officer, "/arbetsko", "officer work queue")
    a.visit(officer, "/arenden", "case list")
    a.visit(officer, "/arenden?skede=identify_need&skede=agreement&q=Webb&org=Gemenskap&forsenade=ja&handlaggare=mina",
            "case list with filters")
    a.visit(officer, "/arenden?handlaggare=ingen&ar=2026&sortera=-title", "case list sorted, unassigned")
    a.visit(officer, "/arenden?q=finns-inte", "case list without hits")
    a.visit(officer, "/arenden?ar=tjugo&skede=okant&sortera=password", "case list with errors", status=422)
    a.visit(officer, "/oversikt", "overview")
    a.visit(officer, "/statistik", "statistics")
    a.visit(officer, "/statistik?forvaltning=all&ar=2026", "statistics for the municipality and a year")
    a.visit(officer, "/statistik?forvaltning=socialen&ar=tjugo", "statistics with errors", status=422)
    a.visit(officer, "/organisationer/att-bekrafta", "organisations to confirm")
    a.visit(officer, "/diarium", "diarium search")
    a.visit(officer, "/diarium?fran=1%20mars&till=2026-01-01", "diarium search with errors", status=422)
    a.visit(officer, f"/arenden/{world.review_case_id}", "officer case with pending review")
    a.visit(officer, f"/arenden/{st.unassigned_id}", "officer case unassigned")
    a.submit(officer, f"form[action='/arenden/{st.unassigned_id}/begar-komplettering']", "completion request with errors",
             {"message": ""})
    a.visit(officer, f"/arenden/{st.completion_id}", "officer case needs completion")
    a.visit(officer, f"/arenden/{st.dialogue_id}", "officer case dialogue")
    a.visit(officer, f"/arenden/{st.dialogue_id}/dialog", "dialogue")
    a.submit(officer, f"form[action='/arenden/{st.dialogue_id}/dialog/mote']", "dialogue meeting with errors",
             {"held_on": "", "participants": ""})
    a.visit(officer, f"/arenden/{st.dialogue_id}/dialog", "dialogue")
    a.submit(officer, f"form[action='/arenden/{st.dialogue_id}/dialog/lamplighet']", "checklist conflict view", {"version": "0"},
             shows=CONFLICT)
    a.visit(officer, f"/arenden/{st.agreement_id}", "officer case agreement")
    a.visit(officer, f"/arenden/{st.agreement_id}/utskrift", "printable case sheet")
    a.visit(officer, f"/arenden/{st.unsigned_id}/avtal", "agreement form empty")
    a.visit(officer, f"/arenden/{st.agreement_id}/avtal", "agreement form")
    a.submit(officer, f"form[action='/arenden/{st.agreement_id}/avtal']", "agreement form with errors",
             {"public_party-name": "", "funding_amount_sek": "mycket", "period_end": "2020-01-01"})
    a.visit(officer, f"/arenden/{st.agreement_id}/avtal", "agreement form")
    a.submit(officer, f"form[action='/arenden/{st.agreement_id}/avtal']", "agreement conflict view", {"version": "0"},
             shows=CONFLICT)
    a.visit(officer, f"/arenden/{st.signed_id}", "officer case signed by the municipality")
    a.submit(officer, f"form[action='/arenden/{st.signed_id}/underskrift']", "signature with errors",
             {"party": "organisation", "name": "", "signed_on": "2020-01-01"})
    a.visit(officer, f"/arenden/{st.decision_id}", "officer case awaiting decision on the agreement")
    a.visit(officer, f"/arenden/{st.followup_id}", "officer case follow-up")
    a.visit(officer, f"/arenden/{indicators_id}", "officer case with indicator charts and ratings")
    assess = officer.locator("form[action$='/bedom']").first.get_attribute("action")
    a.submit(officer, f"form[action='{assess}']", "report assessment with errors", {"assessment": "needs_completion", "comment": ""})
    a.visit(officer, f"/arenden/{st.rejected_id}", "officer case rejected")
    a.visit(officer, "/notiser", "officer notifications")

    approver = audit_login(world.approver)
    a.visit(approver, "/arbetsko", "approver work queue")
    a.visit(approver, f"/arenden/{st.decision_id}/beslut", "decision page with signatures")
    a.submit(approver, f"form[action='/arenden/{st.decision_id}/beslut']", "decision with errors", {"motivation": ""})
    a.visit(approver, f"/arenden/{world.review_case_id}/beslut", "decision page")
    a.visit(approver, f"/arenden/{st.agreement_id}/beslut", "decision page without a pending review")
    a.visit(approver, f"/arenden/{st.decision_id}", "approver case page")

    registrar = audit_login(world.registrar)
    a.visit(registrar, "/arenden", "registrar case list")
    a.visit(registrar, "/oversikt", "registrar overview")
    a.visit(registrar, "/statistik?ar=2001", "registrar statistics without data")
    a.visit(registrar, "/diarium?q=bilaga", "registrar diarium search")
    a.visit(registrar, "/gallring", "gallring: due, the open list, a decision made")
    a.submit(registrar, "form[action$='/godkann']", "gallring approval with nothing chosen", {"item": "ingen"})
    a.visit(registrar, "/e-arkiv", "e-archive export page")
    a.submit(registrar, "form[action='/e-arkiv']", "e-archive order of an unknown case", {"arenden": "XYZ 1999/0001"})
    a.visit(registrar, f"/arenden/{st.followup_id}", "registrar case page")
    a.submit(registrar, f"form[action^='/arenden/{st.followup_id}/diarium/']", "registrar diary correction with errors",
             {"confidential": "ja", "osl_reference": ""})
    a.visit(registrar, "/diarium/rapport?fran=&till=2026-13-01&format=pdf", "registrar diarium report with errors", status=422)
    a.visit(registrar, "/organisationer/att-bekrafta", "registrar organisations to confirm")

    admin = audit_login(world.admin)
    a.visit(admin, "/admin", "admin")
    a.submit(admin, "form[action='/admin/anvandare']", "admin new account with errors", {"full_name": "", "email": "x"})
    deadlines = admin.locator('a[href$="/frister"]').first.get_attribute("href")
    a.visit(admin, deadlines, "deadlines admin")
    a.submit(admin, f"form[action='{deadlines}']", "deadlines admin with errors", {"triage-due": "-5"})

    elapsed = time.monotonic() - started
    assert not a.problems, f"{len(a.problems)} problems on {a.states} page states ({elapsed:.0f} s):\n" + "\n".join(a.problems)
    assert a.states >= 80, a.states  # every state above was audited (a wrong status is a problem, not a skip)


def test_single_sign_on_pages_pass_axe_and_the_smoke_check(sso, sso_context) -> None:  # noqa: ANN001
    """The login page with the providers' buttons, a refused login's page and the member's invitations (with an error)."""
    import re

    from factories import PASSWORD
    from sso_setup import STAFF_LABEL

    if not AXE_JS.exists():
        missing = f"axe-core is not installed at {AXE_JS}: run `make axe` (npm ci in tests/fixtures/axe)"
        if os.environ.get("IOP_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    a = Auditor()
    page = sso_context(bypass_csp=True).new_page()
    a.visit(page, "/logga-in", "login with single sign-on buttons")
    page.get_by_role("button", name=STAFF_LABEL).click()
    page.get_by_label("Användarnamn").fill("okand")
    page.get_by_label("Lösenord hos leverantören").fill("op-lösen-2026")
    page.get_by_role("button", name="Fortsätt").click()
    page.wait_for_url(re.compile(r"/logga-in/oidc/kommun/svar"))
    a.check(page, "single sign-on refused (unknown group)")
    member = sso_context(bypass_csp=True).new_page()
    member.goto("/logga-in")
    member.get_by_label("E-postadress").fill(sso.member_email)
    member.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    member.locator("form[action='/logga-in'] button").click()
    member.wait_for_url(re.compile(r"/start"))
    a.visit(member, "/organisation/inbjudningar", "member invitations")
    a.submit(member, "form[action='/organisation/inbjudningar']", "member invitations with errors", {"email": "inte-en-adress"})
    admin = sso_context(bypass_csp=True).new_page()
    admin.goto("/logga-in")
    admin.get_by_label("E-postadress").fill("ada.sso-admin@exempelstad.se")
    admin.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    admin.locator("form[action='/logga-in'] button").click()
    admin.wait_for_url(re.compile(r"/admin"))
    a.visit(admin, f"/organisationer/{sso.org_id}/inbjudningar", "staff invitations")
    assert a.states == 5
    assert not a.problems, "\n".join(a.problems)


def test_case_page_fits_a_phone_screen(login, world) -> None:  # noqa: ANN001
    page = login(world.officer, viewport={"width": 360, "height": 740})
    for path in (f"/arenden/{world.review_case_id}", "/arbetsko", "/oversikt"):
        page.goto(path)
        # Wide tables scroll inside their own region; the page itself must not scroll sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
