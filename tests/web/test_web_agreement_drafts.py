"""Issue 22: the agreement form saves a half-filled draft, is grouped in sections with their progress, and when the officer
marks it ready every missing item is named by its Swedish label in an error summary that links to the field."""

from __future__ import annotations

import re

from factories import World, case
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_web_forms import Browserless, _terms_form, web  # noqa: F401

from service.agreements import completeness
from service.agreements.models import Agreement
from service.cases.stages import Stage

HALF = {"public_party-name": "Exempelstads kommun", "public_party-orgnr": "212000-0142", "public_party-signatory_name": "Eva Ek",
        "background": "Behovet togs fram i dialogen.", "period_start": "2027-01-01", "funding_amount_sek": "400 000",
        "instalments-0-due_on": "2027-02-01", "contributions-3-description": "Lokaler", "principles": "Enligt överenskommelsen."}


def _stored(db: Session, case_id: int) -> Agreement | None:
    db.expire_all()
    return db.scalar(select(Agreement).where(Agreement.case_id == case_id))


def _summary_links(html: str) -> list[tuple[str, str]]:
    """(target id, text) of each link in the error summary."""
    summary = html.split('class="error-summary__list"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)


def _sections(html: str) -> dict[str, str]:
    """Each section of the step navigation and its status text."""
    nav = html.split('id="avsnitt-rubrik"', 1)[1].split("</nav>", 1)[0]
    return {title: re.sub(r"<[^>]+>", "", status).strip()
            for title, status in re.findall(r'<li><a href="#avsnitt-[a-z]+">\d\. ([^<]+)</a> <span>(.*?)</span></li>', nav)}


def test_a_half_filled_draft_is_saved_and_shown_again(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    officer = Browserless(web.client).login(w.officer)
    base = f"/arenden/{c.id}/avtal"
    page = officer.get(base).text
    assert list(_sections(page)) == [title for _, title, _ in completeness.SECTIONS]
    assert {"Parter", "Period och ekonomi", "Utbetalningar", "Uppföljning", "Övrigt"} <= set(_sections(page))
    for key, _, _ in completeness.SECTIONS:  # every step links to its fieldset
        assert f'<fieldset class="fieldset fieldset--section" id="avsnitt-{key}">' in page
    r = officer.post(base, {**HALF, "version": "0", "action": "utkast"})
    assert r.headers["location"] == base
    stored = _stored(db, c.id)
    assert stored.terms["public_party"] == {"name": "Exempelstads kommun", "orgnr": "212000-0142", "signatory_name": "Eva Ek"}
    assert stored.terms["funding_amount_sek"] == 400_000 and stored.terms["instalments"] == [{"due_on": "2027-02-01"}]
    assert stored.terms["contributions"] == [{"description": "Lokaler"}]  # a half-filled row is kept
    assert "purpose" not in stored.terms and "changes_clause" not in stored.terms  # left blank: not filled in
    page = officer.get(base).text
    assert 'value="Eva Ek"' in page and "Behovet togs fram i dialogen." in page and 'value="400 000"' in page
    assert 'name="version" value="1"' in page
    assert 'value="Lokaler"' in page and 'id="avtal-contributions-0-description"' in page  # the row is now the first
    # Progress is the domain's verdict on the saved terms, section by section.
    missing = completeness.missing(stored.terms)
    shown = _sections(page)
    for s in completeness.sections(stored.terms):
        n = sum(1 for m in missing if m.section == s.key)
        assert shown[s.title] == ("Klart" if n == 0 else f"{n} uppgift{'er' if n > 1 else ''} saknas"), s
    assert f"0 av {len(completeness.SECTIONS)} avsnitt är klara" in page


def test_marking_ready_names_every_missing_field_and_links_to_it(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    officer = Browserless(web.client).login(w.officer)
    base = f"/arenden/{c.id}/avtal"
    officer.post(base, {**HALF, "version": "0", "action": "utkast"})
    # As the form shows the draft again: the half-filled contribution is now its first row.
    again = {**{k: v for k, v in HALF.items() if not k.startswith("contributions")}, "contributions-0-description": "Lokaler"}
    r = officer.post(base, {**again, "version": "1", "action": "klart"}, expect=422)
    html = r.text
    assert "Villkoren är inte kompletta och sparades inte" in html
    links = _summary_links(html)
    expected = completeness.missing(_stored(db, c.id).terms)
    assert len(links) == len(expected) > 15
    texts = [t for _, t in links]
    for item, text in zip(expected, texts, strict=True):  # in the form's order, each led by its Swedish label
        assert text.startswith(item.label), (item, text)
    assert "Kommunen eller regionen – Firmatecknarens roll: fyll i fältet." in texts
    assert "Utbetalning 1 – Belopp (kronor): fyll i fältet." in texts and "Mål: skriv minst ett mål." in texts
    assert not [t for t in texts if re.search(r"[a-z]+_[a-z]+", t)]  # no internal field names
    for target, _ in links:  # every link lands on an element of the page
        assert f'id="{target}"' in html, target
        field = re.search(rf'<(?:input|textarea|select)[^>]* id="{target}"[^>]*>', html)
        if field:  # a field: invalid, and described by its message
            assert 'aria-invalid="true"' in field.group(0) and f'{target}-error' in field.group(0), field.group(0)
            assert f'id="{target}-error"' in html
    assert _stored(db, c.id).version == 1  # refused: nothing saved
    assert 'value="Eva Ek"' in html  # the input is kept


def test_a_draft_checks_the_format_of_what_is_filled_in(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    officer = Browserless(web.client).login(w.officer)
    base = f"/arenden/{c.id}/avtal"
    r = officer.post(base, {**HALF, "funding_amount_sek": "fyrahundra", "public_party-orgnr": "123", "version": "0", "action": "utkast"},
                     expect=422)
    links = dict(_summary_links(r.text))
    assert set(links) == {"avtal-funding_amount_sek", "avtal-public_party-orgnr"}
    assert links["avtal-funding_amount_sek"].startswith("Kommunens ekonomiska bidrag totalt (kronor): ange ett heltal")
    assert links["avtal-public_party-orgnr"].startswith("Kommunen eller regionen – Organisationsnummer:")
    assert "inte kompletta" not in r.text  # a format error, not a completeness one
    assert _stored(db, c.id) is None


def test_complete_sections_are_shown_complete_and_ready_terms_are_saved(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    officer = Browserless(web.client).login(w.officer)
    base = f"/arenden/{c.id}/avtal"
    full = _terms_form(w.org.name, w.org.orgnr)
    parties = {k: v for k, v in full.items() if k.startswith(("public_party", "organisation_party"))}
    officer.post(base, {**parties, "principles": "P", "changes_clause": "Ä", "termination_clause": "H", "disputes_clause": "T",
                        "version": "0", "action": "utkast"})
    shown = _sections(officer.get(base).text)
    activities = completeness.SECTION_OF["activities"]
    n = next(s.missing for s in completeness.sections(_stored(db, c.id).terms) if s.key == activities)
    assert shown["Parter"] == "Klart" and shown["Övrigt"] == "Klart" and n >= 4
    assert shown[next(t for k, t, _ in completeness.SECTIONS if k == activities)] == f"{n} uppgifter saknas"
    assert f"2 av {len(completeness.SECTIONS)} avsnitt är klara" in officer.get(base).text
    # The case page says the terms are a draft, and the agreement document cannot be made from them.
    assert "Utkast" in officer.get(f"/arenden/{c.id}").text.split('id="avtal-rubrik"', 1)[1].split("</section>", 1)[0]
    r = officer.post(f"/arenden/{c.id}/dokument/skapa", {"kind": "agreement"}, expect=409)
    assert "Avtalsvillkoren är inte kompletta" in r.text and "Bakgrund och behovsanalys" in r.text
    r = officer.post(base, {**full, "version": "1", "action": "klart"})
    assert r.headers["location"] == f"/arenden/{c.id}"
    assert completeness.is_complete(_stored(db, c.id).terms)
    page = officer.get(base).text
    n = len(completeness.SECTIONS)
    assert set(_sections(page).values()) == {"Klart"} and f"{n} av {n} avsnitt är klara" in page


def test_two_tabs_saving_drafts_get_the_conflict_view(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    officer = Browserless(web.client).login(w.officer)
    base = f"/arenden/{c.id}/avtal"
    officer.post(base, {**HALF, "version": "0", "action": "utkast", "purpose": "Flik A"})
    r = officer.post(base, {**HALF, "version": "0", "action": "utkast", "purpose": "Flik B"}, expect=409)
    assert "Den andras version" in r.text and "Flik A" in r.text and "Flik B" in r.text
    assert '<a href="#avtal-purpose">Syfte</a>' in r.text  # the other's change named by its label, linked to the field
    assert _stored(db, c.id).terms["purpose"] == "Flik A"


def test_marking_ready_lists_format_errors_and_what_is_missing_together(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    officer = Browserless(web.client).login(w.officer)
    r = officer.post(f"/arenden/{c.id}/avtal", {**HALF, "funding_amount_sek": "fyrahundra", "version": "0", "action": "klart"}, expect=422)
    links = dict(_summary_links(r.text))
    assert links["avtal-funding_amount_sek"] == "Kommunens ekonomiska bidrag totalt (kronor): ange ett heltal, utan decimaler."
    assert links["avtal-purpose"] == "Syfte: fyll i fältet." and links["avtal-instalments-0-amount_sek"].endswith("fyll i fältet.")
    assert "Villkoren är inte kompletta och sparades inte" in r.text
    for target in links:
        assert f'id="{target}"' in r.text
    assert _stored(db, c.id) is None
