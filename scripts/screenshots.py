"""Save screenshots of the main pages to docs/screenshots/ (demo data, headless Chromium).

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from service.seed import DEMO_PASSWORD, seed  # noqa: E402
from tests.web.live_server import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def login(browser: Browser, base: str, email: str, viewport: dict[str, int] = DESKTOP) -> Page:
    """A page in a fresh browser context, logged in through the form."""
    page = browser.new_context(viewport=viewport, locale="sv-SE", base_url=base).new_page()
    page.goto("/logga-in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state("networkidle")
    return page


def shot(page: Page, out: Path, name: str) -> None:
    """Full-page PNG."""
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main() -> None:
    """Start the app with demo data, walk the main pages as each role and save screenshots."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="iop-screens-") as tmp:
        server = LiveServer(Path(tmp))
        server.prepare(lambda s: seed(s))
        server.start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                base = server.base_url

                page = browser.new_context(viewport=DESKTOP, locale="sv-SE", base_url=base).new_page()
                page.goto("/logga-in")
                shot(page, out, "01-inloggning")

                org = login(browser, base, "medlem1@forening.example.se")
                shot(org, out, "02-organisation-start")
                org.goto("/forslag/nytt")
                shot(org, out, "03-forslag-formular")
                org.get_by_role("button", name="Spara utkast").click()
                org.wait_for_load_state("networkidle")
                shot(org, out, "03b-forslag-felmeddelanden")

                officer = login(browser, base, "handlaggare@exempelstad.se")
                # Put one case in front of an approver, the way an officer does it.
                officer.get_by_role("link", name="Mötesplats för äldre i Norrby").first.click()
                officer.get_by_role("button", name="Tilldela").click()
                officer.get_by_role("button", name="Begär beslut").click()
                officer.goto("/arbetsko")
                shot(officer, out, "04-handlaggare-arbetsko")
                officer.goto("/arenden")
                officer.get_by_role("link", name="Jourverksamhet och skyddat boende").click()
                shot(officer, out, "05-arende")
                officer.goto(officer.url + "/avtal")
                shot(officer, out, "05c-avtalsvillkor")
                officer.goto("/arenden")
                officer.get_by_role("link", name="Läxhjälp på Söderby bibliotek").click()
                officer.goto(officer.url + "/dialog")
                shot(officer, out, "05b-dialog-lamplighet")

                approver = login(browser, base, "beslut@exempelstad.se")
                approver.get_by_role("link", name="Mötesplats för äldre i Norrby").click()
                shot(approver, out, "06-beslutsfattare-beslut")
                approver.goto("/oversikt")
                shot(approver, out, "07-oversikt")

                admin = login(browser, base, "admin@exempelstad.se")
                admin.locator('a[href$="/frister"]').first.click()
                shot(admin, out, "09-admin-tidsfrister")

                phone = login(browser, base, "medlem2@forening.example.se", PHONE)
                phone.get_by_role("link", name="Läxhjälp på Söderby bibliotek").click()
                shot(phone, out, "08-mobil-arende")
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
