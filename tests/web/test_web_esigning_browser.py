"""Browser check (Chromium) of electronic signing on the case page: the officer sends the agreement, both signatories sign
in turn, the organisation sees every signature validated; axe-core and the page audit on each state.

The validated section is saved as docs/screenshots/e-underskrift.png. A server of its own, configured with a signing key and trust root made here (the shared browser server has none).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import PASSWORD
from playwright.sync_api import Browser, Page, expect
from test_web_accessibility import AUDIT, AXE_JS, _axe
from live_server import LiveServer

from service.documents.pdfa import pdfa_available



SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "e-underskrift.png"
pytestmark = pytest.mark.skipif(not pdfa_available() or not AXE_JS.exists(), reason="LibreOffice and axe-core are needed")


@pytest.fixture(scope="module")
def esign(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict]]:
    """A server whose settings sign with a test CA, with a case in the agreement stage and its generated agreement."""
    from service.signing.keys import make_test_pki

    workdir = tmp_path_factory.mktemp("esign-web")
    pki = make_test_pki(workdir / "pki")
    server = LiveServer(workdir)
    holder: dict = {}

    def populate(db) -> None:  # noqa: ANN001
        import factories
        from gates_setup import terms_payload

        from service.agreements.models import Agreement
        from service.agreements.schemas import AgreementTerms
        from service.auth.models import Role
        from service.cases.stages import Stage
        from service.config import Settings
        from service.documents import service as documents
        from service.documents.models import DocumentKind
        from storage.filesystem import FilesystemStore

        w = factories.World(db)
        olle = factories.user(db, Role.ORG_MEMBER, organisation=w.org, full_name="Olle Ordförande")
        eva = factories.user(db, Role.APPROVER, department=w.dep, full_name="Eva Ek", delegated_limit_sek=1_000_000)
        c = factories.case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id, title="Träffpunkt med e-underskrift")
        terms = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
        db.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                         period_start=terms.period_start, period_end=terms.period_end))
        db.flush()
        documents.generate(db, FilesystemStore(workdir / "objects"), w.officer, c, DocumentKind.AGREEMENT, settings=Settings())
        holder.update(case_id=c.id, officer=w.officer.email, olle=olle.email, eva=eva.email, olle_id=olle.id, eva_id=eva.id)

    server.prepare(populate)
    signing_env = {"IOP_SIGNING_PKCS12_PATH": str(pki.pkcs12), "IOP_SIGNING_PKCS12_PASSWORD": pki.password,
                   "IOP_SIGNING_TRUST_ROOTS": f'["{pki.ca_pem}"]'}
    saved = {k: os.environ.get(k) for k in signing_env}
    os.environ.update(signing_env)  # the server process inherits them; restored at once for this process
    try:
        server.start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield server, holder
    finally:
        server.stop()


def _person(browser: Browser, server: LiveServer, email: str, contexts: list) -> Page:
    ctx = browser.new_context(base_url=server.base_url, locale="sv-SE", bypass_csp=True)  # the test injects axe-core
    ctx.set_default_timeout(30_000)
    contexts.append(ctx)
    page = ctx.new_page()
    page.goto("/logga-in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("status")).to_contain_text("Du är inloggad")
    return page


def _audit(page: Page, state: str) -> list[str]:
    return [f"{state}: {p}" for p in page.evaluate(AUDIT)] + _axe(page, state)


def test_signing_in_turn_on_the_case_page(browser: Browser, esign) -> None:  # noqa: ANN001
    server, h = esign
    url = f"/arenden/{h['case_id']}"
    problems: list[str] = []
    contexts: list = []
    try:
        _walk(browser, server, h, url, problems, contexts)
    finally:
        for ctx in contexts:
            ctx.close()
    assert not problems, "\n".join(problems)


def _walk(browser: Browser, server: LiveServer, h: dict, url: str, problems: list[str], contexts: list) -> None:
    """The officer sends, both sign in turn, the organisation sees the validation; each state audited."""
    officer = _person(browser, server, h["officer"], contexts)
    officer.goto(url)
    section = officer.locator("#e-underskrift")
    section.get_by_text("Skicka avtalet för e-underskrift").click()
    section.get_by_role("button", name="Skicka för underskrift").click()  # nobody chosen: refused on the form
    expect(officer.locator(".error-summary")).to_contain_text("Välj undertecknare för parten")
    problems += _audit(officer, "e-underskrift: fel i formuläret")
    section = officer.locator("#e-underskrift")
    section.get_by_label("Organisationens undertecknare").select_option(str(h["olle_id"]))
    section.get_by_label("Kommunens undertecknare").select_option(str(h["eva_id"]))
    section.get_by_role("button", name="Skicka för underskrift").click()
    expect(officer.get_by_role("status")).to_contain_text("Avtalet är skickat för e-underskrift")
    problems += _audit(officer, "e-underskrift: skickat")

    for who in ("olle", "eva"):
        signer = _person(browser, server, h[who], contexts)
        signer.goto(url)
        problems += _audit(signer, f"e-underskrift: {who}s tur")
        signer.get_by_role("button", name="Skriv under avtalet").click()
        expect(signer.get_by_role("status")).to_contain_text("Du har skrivit under avtalet elektroniskt")

    member = _person(browser, server, h["olle"], contexts)
    member.goto(url)
    checks = member.locator("#e-underskrift .signature-check")
    expect(checks).to_contain_text("Giltig")
    expect(checks.locator("tbody tr")).to_have_count(2)
    expect(checks.locator("tbody tr").first).to_contain_text("Olle Ordförande")
    expect(checks.locator("tbody tr").nth(1)).to_contain_text("Eva Ek")
    problems += _audit(member, "e-underskrift: kontrollerade underskrifter")
    member.locator("#e-underskrift").screenshot(path=str(SCREENSHOT))


def test_the_server_log_is_clean(esign) -> None:  # noqa: ANN001
    server, _ = esign
    assert "Traceback" not in server.log(), server.log()
