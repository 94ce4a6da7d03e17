"""End to end in a real browser: proposal, review request, four-eyes decision, decision document."""

from __future__ import annotations

import io
import re

from docx import Document as Docx
from playwright.sync_api import Page, expect


def _stage(page: Page) -> str:
    """The stage the step indicator marks as current."""
    label = page.locator(".stepper [aria-current='step'] .stepper__label").text_content() or ""
    return label.replace("(pågår)", "").strip()


def test_organisation_proposal_is_reviewed_approved_and_decision_downloaded(login, world) -> None:  # noqa: ANN001
    # --- the organisation writes and submits a proposal
    org = login(world.member)
    org.get_by_role("link", name="Skriv ett nytt förslag").click()
    expect(org.get_by_role("heading", level=1)).to_have_text("Nytt förslag om partnerskap")
    expect(org.get_by_text("IOP är inte en upphandling.")).to_be_visible()
    org.get_by_label("Förslagets namn").fill("Läxhjälp i Norrby")
    org.get_by_label("Förvaltning").select_option(label=world.department)
    org.get_by_label("Vilket behov har ni identifierat?").fill("Många barn i Norrby saknar stöd med läxorna.")
    org.get_by_label("Målgrupp").fill("Barn 8–15 år i Norrby.")
    org.get_by_label("Planerade aktiviteter").fill("Läxhjälp tre kvällar i veckan.")
    org.get_by_label("Organisationens insats i pengar (kronor)").fill("50 000")
    org.get_by_label("Organisationens insats i annan form").fill("Lokaler och ideella läxhjälpare")
    org.get_by_label("Ideella timmar per år").fill("900")
    org.get_by_label("Begärt bidrag från kommunen (kronor)").fill("300 000")
    org.get_by_label("Startdatum").fill("2027-01-01")
    org.get_by_label("Slutdatum").fill("2028-12-31")
    org.get_by_role("button", name="Spara utkast").click()
    expect(org.get_by_role("status")).to_contain_text("sparat som utkast")
    assert _stage(org) == "Utkast"
    case_url = org.url
    org.get_by_role("button", name="Skicka in förslaget").click()
    expect(org.get_by_role("status")).to_contain_text("diarienummer")
    diarienummer = org.locator(".diarienummer").inner_text()
    assert re.fullmatch(rf"{world.prefix} \d{{4}}/\d{{4}}", diarienummer), diarienummer
    assert _stage(org) == "Behovsidentifiering"
    expect(org.locator("#historik")).to_contain_text(f"registrerat med diarienummer {diarienummer}")

    # --- the officer takes the case and asks for a decision
    officer = login(world.officer)
    unassigned = officer.locator("section", has=officer.get_by_role("heading", name=re.compile("Ärenden utan handläggare")))
    unassigned.get_by_role("link", name="Läxhjälp i Norrby").click()
    officer.get_by_role("button", name="Tilldela").click()
    expect(officer.get_by_role("status")).to_contain_text("Handläggare är tilldelad")
    expect(officer.get_by_text("Alla villkor för nästa skede är uppfyllda.")).to_be_visible()
    approver_select = officer.get_by_label("Beslutsfattare (frivilligt)")
    approver_select.select_option(approver_select.locator("option", has_text="Bo Beslutsfattare").get_attribute("value"))
    officer.get_by_label("Kommentar till beslutsfattaren").fill("Behovet är tydligt, dags för dialog.")
    officer.get_by_role("button", name="Begär beslut").click()
    expect(officer.get_by_role("status")).to_contain_text("Begäran om beslut är skickad")
    expect(officer.locator(".case-head")).to_contain_text("Väntar på beslut")
    # The requester is never offered the decision (four-eyes).
    expect(officer.get_by_role("link", name="Fatta beslut")).to_have_count(0)

    # --- a different person, the approver, decides
    approver = login(world.approver)
    waiting = approver.locator("section", has=approver.get_by_role("heading", name=re.compile("Väntar på mitt beslut")))
    waiting.get_by_role("link", name="Läxhjälp i Norrby").click()
    expect(approver.get_by_role("heading", level=1)).to_have_text("Beslut: Läxhjälp i Norrby")
    # Rejecting without motivation is refused by the service; the message sits at the field and nothing changes.
    approver.get_by_label("Avslå").check()
    approver.get_by_role("button", name="Registrera beslut").click()
    expect(approver.locator("#decision-motivation-error")).to_contain_text("Motivering krävs")
    expect(approver.get_by_label("Avslå")).to_be_checked()
    expect(approver.get_by_label("Motivering")).to_have_attribute("aria-invalid", "true")
    assert _stage(approver) == "Behovsidentifiering"
    approver.get_by_label("Godkänn").check()
    approver.get_by_label("Motivering").fill("Behovet är gemensamt identifierat och båda parter bidrar.")
    approver.get_by_role("button", name="Registrera beslut").click()
    expect(approver.get_by_role("status")).to_contain_text("Beslutet är registrerat")
    assert _stage(approver) == "Dialog"

    # --- the officer generates the decision document
    officer.goto(case_url)
    officer.get_by_label("Dokument att skapa").select_option("decision")
    officer.get_by_role("button", name="Skapa dokument").click()
    expect(officer.get_by_role("status")).to_contain_text("Dokumentet är skapat")

    # --- the organisation sees the new stage and downloads the decision
    org.goto(case_url)
    assert _stage(org) == "Dialog"
    expect(org.locator("#beslut")).to_contain_text("Godkänd")
    expect(org.locator("#beslut")).to_contain_text("båda parter bidrar")
    link = org.locator("#dokument").get_by_role("link", name=re.compile(r"^beslut-.*\.docx$"))
    with org.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("beslut-") and download.suggested_filename.endswith(".docx")
    content = open(download.path(), "rb").read()
    assert content[:2] == b"PK", "a .docx is a zip archive"
    text = "\n".join(p.text for p in Docx(io.BytesIO(content)).paragraphs)
    assert diarienummer in text
    assert "godkänna" in text and "båda parter bidrar" in text


def test_errors_are_shown_at_the_field_in_swedish_and_input_is_kept(login, world) -> None:  # noqa: ANN001
    from factories import make_orgnr

    page = login(world.new_member)
    page.get_by_role("link", name="Registrera organisation").click()
    page.get_by_label("Organisationens namn").fill("Föreningen Nystart")
    page.get_by_label("Organisationsnummer").fill("802456-7890")  # wrong check digit
    page.get_by_label("Associationsform").select_option(label="Ideell förening")
    page.get_by_label("Ändamål").fill("Gemenskap för nyanlända familjer.")
    page.get_by_role("button", name="Registrera organisation").click()
    error = page.locator("#org-orgnr-error")
    expect(error).to_contain_text("ogiltigt organisationsnummer")
    expect(page.get_by_label("Organisationsnummer")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Organisationsnummer")).to_have_value("802456-7890")
    expect(page.get_by_label("Organisationens namn")).to_have_value("Föreningen Nystart")
    expect(page.get_by_label("Ändamål")).to_have_value("Gemenskap för nyanlända familjer.")
    # The summary links to the field and is focused for screen-reader users.
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name=re.compile("Organisationsnummer")).click()
    expect(page.get_by_label("Organisationsnummer")).to_be_focused()
    page.get_by_label("Organisationsnummer").fill(make_orgnr(9731))
    page.get_by_role("button", name="Registrera organisation").click()
    expect(page.get_by_role("status")).to_contain_text("Organisationen är registrerad")

    # A proposal whose period ends before it starts: the service's message appears at the end date.
    page.get_by_role("link", name="Skriv ett nytt förslag").click()
    page.get_by_label("Förslagets namn").fill("Språkcafé")
    page.get_by_label("Förvaltning").select_option(label=world.department)
    page.get_by_label("Vilket behov har ni identifierat?").fill("Nyanlända vill öva svenska.")
    page.get_by_label("Startdatum").fill("2027-06-01")
    page.get_by_label("Slutdatum").fill("2027-01-01")
    page.get_by_role("button", name="Spara utkast").click()
    expect(page.locator("#case-period_end-error")).to_contain_text("period_start")
    expect(page.get_by_label("Förslagets namn")).to_have_value("Språkcafé")
    expect(page.get_by_label("Vilket behov har ni identifierat?")).to_have_value("Nyanlända vill öva svenska.")
    expect(page.get_by_label("Förvaltning")).to_have_value(re.compile(r"\d+"))


def test_pages_require_login_and_hide_other_organisations_cases(login, world, server) -> None:  # noqa: ANN001
    import httpx

    anonymous = httpx.get(f"{server.base_url}/arbetsko", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/logga-in?nasta=/arbetsko")
    page = login(world.other_member)
    response = page.goto(f"/arenden/{world.review_case_id}")
    assert response is not None and response.status == 404  # not 403: no existence leak
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    response = page.goto("/arbetsko")
    assert response is not None and response.status == 403
