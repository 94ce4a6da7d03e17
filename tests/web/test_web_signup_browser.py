"""In Chromium (issue 22): a brand-new organisation signs up from the login page, confirms its e-mail through the
welcome message's link, is confirmed by an officer, submits a proposal and gets its receipt (kvittens) by e-mail and
in the app; a refused sign-up keeps what was typed (never the password) and names each field."""

from __future__ import annotations

import re

from factories import make_orgnr
from playwright.sync_api import expect

from tests.fixtures.smtp import smtp_server, smtp_server_session  # noqa: F401
from tests.web.test_web_journey_browser import _notice_card, _run_outbox

PASSWORD = "Kvällsfika på Norrby torg i maj"


def _mail_to(smtp, address: str, subject: str):  # noqa: ANN001, ANN202
    found = [m.message for m in smtp.messages if str(m.message["To"]) == address and subject in str(m.message["Subject"])]
    assert len(found) == 1, [(str(m.message["To"]), str(m.message["Subject"])) for m in smtp.messages]
    return found[0].get_body(("plain",)).get_content()


def test_a_new_organisation_signs_up_is_confirmed_submits_and_gets_a_receipt(new_context, login, world, server,  # noqa: ANN001
                                                                            smtp_server) -> None:  # noqa: F811
    email, org_name, orgnr = "kassor@nyforening.example.se", "Föreningen Nya Grannar", make_orgnr(7919)
    page = new_context().new_page()
    page.goto("/logga-in")
    page.get_by_role("link", name="Registrera organisationen och skapa ett konto").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrera en ny organisation")
    # First try: the passwords differ and the orgnr is mistyped; both are named, what was typed stays, the password does not.
    page.get_by_label("Ditt namn").fill("Karin Kassör")
    page.get_by_label("Din e-postadress").fill(email)
    page.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    page.get_by_label("Lösenordet igen").fill(PASSWORD + "x")
    page.get_by_label("Organisationens namn").fill(org_name)
    page.get_by_label("Organisationsnummer").fill("802456-7890")
    page.get_by_label("Associationsform").select_option("ideell_forening")
    page.get_by_role("button", name="Registrera").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Lösenordet igen")
    expect(summary).to_contain_text("Organisationsnummer")
    expect(page.get_by_label("Organisationens namn")).to_have_value(org_name)
    expect(page.get_by_label("Lösenord", exact=True)).to_have_value("")
    for link in summary.locator("a").all():
        assert page.locator(link.get_attribute("href")).count() == 1  # each error links to its field
    page.get_by_label("Organisationsnummer").fill(orgnr)
    page.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    page.get_by_label("Lösenordet igen").fill(PASSWORD)
    page.get_by_role("button", name="Registrera").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontrollera din e-post")

    # The welcome e-mail's link confirms the address; only then does the password work.
    _run_outbox(server, smtp_server)
    link = re.search(r"https?://\S+/bekrafta-konto\?token=[\w-]+", _mail_to(smtp_server, email, "Bekräfta din e-postadress"))
    assert link, "no confirmation link in the welcome e-mail"
    page.goto(link.group(0)[link.group(0).index("/bekrafta-konto"):])
    page.get_by_role("button", name="Bekräfta e-postadressen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("E-postadressen är bekräftad")

    # The municipality confirms the organisation.
    officer = login(world.officer)
    officer.goto("/organisationer/att-bekrafta")
    officer.get_by_role("button", name=f"Bekräfta {org_name}").click()
    expect(officer.get_by_role("status")).to_contain_text(org_name)

    # The new member logs in with the password chosen at sign-up, writes and submits a proposal.
    page.goto("/logga-in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("status")).to_contain_text("Du är inloggad")
    page.goto("/forslag/nytt")
    page.get_by_label("Förslagets namn").fill("Grannträffar i Norrby")
    page.get_by_label("Förvaltning").select_option(label=world.department)
    page.get_by_label("Vilket behov har ni identifierat?").fill("Många äldre i området träffar sällan någon.")
    page.get_by_role("button", name="Spara utkast").click()
    page.get_by_role("button", name="Skicka in förslaget").click()
    expect(page.get_by_role("status")).to_contain_text("Förslaget är inskickat")
    diarienummer = page.locator("h1").inner_text().split(" ")[0:2]
    _run_outbox(server, smtp_server)
    receipt = _mail_to(smtp_server, email, "Kvittens")
    assert " ".join(diarienummer) in receipt, receipt
    expect(_notice_card(page, "Mottaget")).to_have_count(1)
