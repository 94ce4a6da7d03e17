"""Rendering of the four Swedish templates: real docxtpl, real .docx files, no mocks."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import threading
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar

import docx
import pytest
from docx.document import Document as DocumentObject
from docx.table import Table
from pydantic import BaseModel, ValidationError

from service.documents import rendering
from service.documents.contexts import (
    AgreementContext,
    CaseRef,
    Contribution,
    DecisionContext,
    DialogueMinutesContext,
    FollowUpRequestContext,
    Instalment,
    Organisation,
    Participant,
    Party,
    Signatory,
)
from service.documents.rendering import (
    DOCX_CONTENT_TYPE,
    RenderedDocument,
    TemplateRenderError,
    render,
)

# Text a user could type; must come out literally, never evaluated, never breaking the XML.
NASTY = "Lek & lär <3 > allt {{ 7*7 }} {% for x in y %} {# c #} \"citat\" 'apostrof'"

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"
BUILD_SCRIPT = TEMPLATES / "source" / "build_templates.py"
TEMPLATE_NAMES = [
    "iop_avtal.docx",
    "beslut.docx",
    "dialogmote_protokoll.docx",
    "uppfoljning_begaran.docx",
    "uppfoljningsrapport.docx",
]
W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


# --------------------------------------------------------------------------- helpers


def open_docx(result: RenderedDocument) -> DocumentObject:
    return docx.Document(io.BytesIO(result.content))


def iter_tables(tables: list[Table]):
    for table in tables:
        yield table
        for row in table.rows:
            for cell in row.cells:
                yield from iter_tables(cell.tables)


def body_text(doc: DocumentObject) -> str:
    """All text of the body (paragraphs and table cells), one paragraph per line."""
    return "\n".join(_Para(p).text for p in doc.element.body.iter(f"{W_NS}p"))


class _Para:
    def __init__(self, p):
        self.text = "".join(
            node.text or ("\n" if node.tag == f"{W_NS}br" else "\t")
            for node in p.iter(f"{W_NS}t", f"{W_NS}br", f"{W_NS}tab")
        )


def header_text(doc: DocumentObject) -> str:
    return "\n".join(
        _Para(p).text
        for section in doc.sections
        for p in section.header._element.iter(f"{W_NS}p")
    )


def footer_xml(doc: DocumentObject) -> str:
    return "".join(section.footer.part.blob.decode("utf-8") for section in doc.sections)


def all_text(doc: DocumentObject) -> str:
    footer = "\n".join(
        _Para(p).text for s in doc.sections for p in s.footer._element.iter(f"{W_NS}p")
    )
    return "\n".join([header_text(doc), body_text(doc), footer])


def table_with_header(doc: DocumentObject, first_header: str, second: str | None = None) -> Table:
    found = [
        t for t in iter_tables(doc.tables)
        if t.rows and t.rows[0].cells[0].text.strip() == first_header
        and (second is None or t.rows[0].cells[1].text.strip() == second)
    ]
    assert len(found) == 1, f"expected one table headed {first_header!r}, found {len(found)}"
    return found[0]


def rows_text(table: Table) -> list[list[str]]:
    return [[cell.text.strip() for cell in row.cells] for row in table.rows]


# --------------------------------------------------------------------------- every template


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_renders_letterhead_and_checksums(name: str, samples) -> None:
    context = samples.by_template[name]()
    assert type(context).template_name == name
    result = render(context)

    assert result.template_name == name
    assert result.content_type == DOCX_CONTENT_TYPE
    assert result.template_sha256 == hashlib.sha256((TEMPLATES / name).read_bytes()).hexdigest()
    assert result.sha256 == hashlib.sha256(result.content).hexdigest()
    assert result.size == len(result.content) > 10_000
    assert zipfile.is_zipfile(io.BytesIO(result.content))

    doc = open_docx(result)
    head = header_text(doc)
    assert "Exempelby kommun" in head
    assert "Socialförvaltningen" in head
    assert "Diarienummer: SOC 2026/0042" in head
    text = all_text(doc)
    assert "Föreningen Gemenskap i Norrby" in text
    assert "{{" not in text and "{%" not in text, "unrendered template tags left"
    assert "None" not in text
    # A4 portrait
    section = doc.sections[0]
    assert round(section.page_width.cm, 1) == 21.0
    assert round(section.page_height.cm, 1) == 29.7


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_footer_has_page_and_numpages_fields(name: str, samples) -> None:
    doc = open_docx(render(samples.by_template[name]()))
    xml = footer_xml(doc)
    assert 'w:fldCharType="begin"' in xml
    assert "<w:instrText" in xml
    assert " PAGE " in xml
    assert " NUMPAGES " in xml
    footer = all_text(doc)
    assert "Sida " in footer
    assert "Dnr SOC 2026/0042" in footer


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_tables_have_borders(name: str) -> None:
    source = docx.Document(str(TEMPLATES / name))
    bordered = 0
    for table in iter_tables(source.tables):
        borders = table._tbl.tblPr.find(f"{W_NS}tblBorders")
        if borders is not None and borders.find(f"{W_NS}top").get(f"{W_NS}val") == "single":
            bordered += 1
    assert bordered >= 1


# --------------------------------------------------------------------------- agreement


def test_agreement_parties_and_sections(agreement: AgreementContext) -> None:
    doc = open_docx(render(agreement))
    text = body_text(doc)
    assert "Överenskommelse om idéburet offentligt partnerskap (IOP)" in text
    parties = table_with_header(doc, "", "Offentlig part")
    assert rows_text(parties)[1:3] == [
        ["Namn", "Exempelby kommun, Socialnämnden", "Föreningen Gemenskap i Norrby"],
        ["Organisationsnummer", "212000-0001", "802000-1234"],
    ]
    assert rows_text(parties)[3] == [
        "Adress", "Box 100, 123 45 Exempelby", "Norrbyvägen 12, 123 50 Exempelby"
    ]
    # Two firmatecknare for the organisation, one for the public party.
    assert rows_text(parties)[4] == [
        "Företrädd av", "Karin Berg, Förvaltningschef", "Ali Hassan, Ordförande; Lina Ek, Kassör"
    ]
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "1 Bakgrund och behovsanalys",
        "2 Syfte och mål",
        "3 Målgrupp",
        "4 Verksamhet och aktiviteter",
        "5 Parternas åtaganden och bidrag",
        "6 Finansiering och utbetalningsplan",
        "7 Avtalsperiod, förlängning och uppsägning",
        "8 Styrning och samverkan",
        "9 Uppföljning och rapportering",
        "10 Värdegrund",
        "11 Ändringar och tillägg",
        "12 Hävning, uppsägning och tvist",
        "13 Underskrifter",
    ]
    for principle in ("Självständighet och oberoende", "Dialog", "Kvalitet", "Långsiktighet",
                      "Öppenhet och insyn", "Mångfald"):
        assert principle in text
    assert "2027-01-01" in text and "2028-12-31" in text
    assert "6 månader" in text
    assert "Kan förlängas med ett år i taget, högst två gånger." in text
    assert "Styrgrupp: Förvaltningschef" in text
    assert "Arbetsgrupp: Handläggare" in text
    assert "de minimis" in text
    # goals as list paragraphs
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert bullets == list(agreement.goals)
    # background: blank line -> two paragraphs
    assert "Barn och unga i Norrby har enligt kommunens välfärdsbokslut lägre måluppfyllelse " \
           "i skolan och färre meningsfulla fritidsaktiviteter än i kommunen i övrigt." in [
               p.text for p in doc.paragraphs]
    assert any(p.text.startswith("Föreningen har sedan 2019") for p in doc.paragraphs)


def test_agreement_instalment_rows(agreement: AgreementContext) -> None:
    doc = open_docx(render(agreement))
    rows = rows_text(table_with_header(doc, "Nr", "Utbetalningsdatum"))
    assert rows[0] == ["Nr", "Utbetalningsdatum", "Belopp", "Villkor/kommentar"]
    assert rows[1:-1] == [
        ["1", "2027-01-15", "500 000 kr", ""],
        ["2", "2027-07-15", "450 000 kr", "Efter godkänd delrapport"],
        ["3", "2028-01-17", "300 000 kr", "Efter godkänd delrapport"],
    ]
    assert rows[-1][0] == "Summa"
    assert rows[-1][-2:] == ["1 250 000 kr", ""]
    assert "1 250 000 kr" in body_text(doc)


@pytest.mark.parametrize("count", [1, 12])
def test_agreement_instalment_row_count_follows_data(count: int, samples) -> None:
    instalments = [
        Instalment(due_date=date(2027, 1, 1) + timedelta(days=31 * i), amount=10_000 + i)
        for i in range(count)
    ]
    context = samples.agreement(
        instalments=instalments, funding_amount=sum(i.amount for i in instalments)
    )
    rows = rows_text(table_with_header(open_docx(render(context)), "Nr", "Utbetalningsdatum"))
    body = rows[1:-1]
    assert len(body) == count
    for n, (row, inst) in enumerate(zip(body, instalments, strict=True), start=1):
        assert row[0] == str(n)
        assert row[1] == inst.due_date.isoformat()
        assert row[2] == f"{inst.amount:,} kr".replace(",", " ")
    assert rows[-1][2] == rendering.sek(context.funding_amount)


def test_agreement_contribution_rows(agreement: AgreementContext) -> None:
    rows = rows_text(table_with_header(open_docx(render(agreement)), "Part", "Bidrag"))
    assert rows[0] == ["Part", "Bidrag", "Beskrivning", "Belopp/omfattning"]
    assert rows[1:] == [
        ["Exempelby kommun", "Ekonomiskt bidrag",
         "Bidrag till lokalhyra, material och samordnare", "1 250 000 kr"],
        ["Exempelby kommun", "Lokaler",
         "Tillgång till Norrbyskolans bibliotek tre kvällar i veckan", "3 kvällar per vecka"],
        ["Föreningen Gemenskap i Norrby", "Ideellt arbete",
         "Läxhjälpare och ledare vid lovaktiviteter", "380 000 kr, 1 900 timmar per år"],
        ["Föreningen Gemenskap i Norrby", "Egna medel",
         "Medlemsavgifter och insamlade medel", "45 500 kr"],
    ]


def test_agreement_report_schedule_rows(agreement: AgreementContext) -> None:
    rows = rows_text(table_with_header(open_docx(render(agreement)), "Nr", "Lämnas senast"))
    assert rows[1:] == [
        ["1", "2027-06-30", "Delrapport år 1", "2027-01-01 – 2027-05-31"],
        ["2", "2028-01-31", "Verksamhetsrapport 2027", "2027-01-01 – 2027-12-31"],
        ["3", "2029-02-28", "Slutrapport", "2027-01-01 – 2028-12-31"],
    ]


def test_agreement_signature_block(agreement: AgreementContext) -> None:
    doc = open_docx(render(agreement))
    text = body_text(doc)
    # One signature line per firmatecknare: one for the public party, two for the organisation.
    for caption in ("Ort och datum", "Namnteckning", "Namnförtydligande", "Befattning/roll"):
        assert text.count(caption) == 3, caption
    assert "Lina Ek" in text and "Kassör" in text
    assert "För Exempelby kommun, Socialnämnden" in text
    assert "För Föreningen Gemenskap i Norrby" in text
    assert "Exempelby, 2026-11-30" in text  # organisation signed: place and date filled in
    assert "Karin Berg" in text and "Förvaltningschef" in text


def test_two_signatories_for_each_party_give_four_signature_lines(samples) -> None:
    two = [Signatory(name="Karin Berg", role="Förvaltningschef"), Signatory(name="Per Ek", role="Ekonomichef")]
    public = samples.agreement().public_party.model_copy(update={"signatories": two})
    doc = open_docx(render(samples.agreement(public_party=public)))
    text = body_text(doc)
    assert text.count("Namnteckning") == 4
    assert "Per Ek" in text and "Ekonomichef" in text
    with pytest.raises(ValidationError):
        Party(name="X", orgnr="212000-0001", signatories=[])
    with pytest.raises(ValidationError):
        Party(name="X", orgnr="212000-0001", signatories=two + two[:1])


def test_agreement_has_no_always_empty_rows_or_columns(samples) -> None:
    """No address row without addresses, no comment or period column nobody filled in."""
    base = samples.agreement()
    context = samples.agreement(
        public_party=base.public_party.model_copy(update={"address": None}),
        organisation=base.organisation.model_copy(update={"address": None}),
        instalments=[i.model_copy(update={"note": None}) for i in base.instalments],
        reports=[r.model_copy(update={"period_start": None, "period_end": None}) for r in base.reports],
    )
    doc = open_docx(render(context))
    assert [r[0] for r in rows_text(table_with_header(doc, "", "Offentlig part"))] == [
        "", "Namn", "Organisationsnummer", "Företrädd av"]
    instalments = rows_text(table_with_header(doc, "Nr", "Utbetalningsdatum"))
    assert instalments[0] == ["Nr", "Utbetalningsdatum", "Belopp"]
    assert instalments[1] == ["1", "2027-01-15", "500 000 kr"]
    reports = rows_text(table_with_header(doc, "Nr", "Lämnas senast"))
    assert reports[0] == ["Nr", "Lämnas senast", "Rapport"]
    assert "Villkor/kommentar" not in body_text(doc) and "Avser period" not in body_text(doc)


def test_agreement_without_optional_parts(samples) -> None:
    context = samples.agreement(
        instalments=[], reports=[], goals=[], payment_terms=None, state_aid_basis=None,
        extension_terms="", steering_group="", working_group="",
    )
    doc = open_docx(render(context))
    text = body_text(doc)
    assert "Utbetalningsplan bestäms särskilt av parterna." in text
    assert "Utbetalningsdatum" not in text
    assert "Lämnas senast" not in text
    assert "Partnerskapets mål är att:" not in text
    assert "Statsstöd" not in text
    assert "Styrgrupp:" not in text
    assert "Förlängning kräver skriftlig överenskommelse" in text
    assert "None" not in all_text(doc)
    assert "{{" not in text and "{%" not in text


def test_agreement_properties_carry_diarienummer(agreement: AgreementContext) -> None:
    props = open_docx(render(agreement)).core_properties
    assert props.title == (
        "Överenskommelse om idéburet offentligt partnerskap (IOP) – SOC 2026/0042"
    )
    assert props.identifier == "SOC 2026/0042"
    assert props.subject == "Läxhjälp och fritid för barn i Norrby"
    assert props.language == "sv-SE"


def test_agreement_validation(samples) -> None:
    with pytest.raises(ValidationError, match="summerar till"):
        samples.agreement(funding_amount=1_000_000)
    with pytest.raises(ValidationError, match="före startdatum"):
        samples.agreement(period_start=date(2029, 1, 1))
    with pytest.raises(ValidationError):
        samples.agreement(contributions=[])
    with pytest.raises(ValidationError):
        samples.agreement(funding_amount=-1, instalments=[])
    with pytest.raises(ValidationError):
        samples.agreement(unknown_field="x")


# --------------------------------------------------------------------------- user text is data


def test_user_text_is_literal_everywhere(samples) -> None:
    tricky_party = Party(
        name=f"Förening {NASTY}", orgnr="802000-1234",
        signatories=[Signatory(name=f"Ali {NASTY}", role="Ordförande")],
    )
    context = samples.agreement(
        case=CaseRef(diarienummer="SOC 2026/0042", title=f"Titel {NASTY}"),
        organisation=tricky_party,
        background=f"Bakgrund {NASTY}",
        purpose=NASTY,
        goals=[NASTY, "vanligt mål"],
        target_group=NASTY,
        activities=NASTY,
        contributions=[Contribution(party=NASTY, kind=NASTY, description=NASTY,
                                    amount=1, extent=NASTY)],
        instalments=[Instalment(due_date=date(2027, 1, 1), amount=1_250_000, note=NASTY)],
        steering_group=NASTY,
        values_notes=NASTY,
        termination_notes=NASTY,
    )
    clean = open_docx(render(samples.agreement()))
    doc = open_docx(render(context))
    text = all_text(doc)
    assert text.count(NASTY) >= 14
    assert f"Bakgrund {NASTY}" in text
    assert f"Titel {NASTY}" in header_text(doc) or f"Titel {NASTY}" in text
    assert "49" not in text  # {{ 7*7 }} was not evaluated
    # nothing was dropped: same number of tables as the clean render, rows intact
    assert len(list(iter_tables(doc.tables))) == len(list(iter_tables(clean.tables)))
    rows = rows_text(table_with_header(doc, "Nr", "Utbetalningsdatum"))
    assert rows[1] == ["1", "2027-01-01", "1 250 000 kr", NASTY]
    contrib = rows_text(table_with_header(doc, "Part", "Bidrag"))
    assert contrib[1] == [NASTY, NASTY, NASTY, f"1 kr, {NASTY}"]


def test_user_text_literal_in_other_templates(samples) -> None:
    decision = open_docx(render(samples.decision(
        motivation=f"Motivering {NASTY}",
        organisation=Organisation(name=f"Org {NASTY}", orgnr="802000-1234"),
        conditions=[NASTY],
    )))
    minutes = open_docx(render(samples.minutes(
        notes=f"Anteckning {NASTY}", place=NASTY,
        participants=[Participant(name=NASTY, organisation=NASTY, role=NASTY)],
        next_steps=f"- {NASTY}\n- Andra steget",
    )))
    request = open_docx(render(samples.followup(
        additional_requirements=[NASTY],
        organisation=Organisation(name=f"Org {NASTY}", orgnr="802000-1234",
                                  address=NASTY),
    )))
    for doc, minimum in ((decision, 4), (minutes, 6), (request, 4)):
        text = all_text(doc)
        assert text.count(NASTY) >= minimum
        assert "49" not in text
    rows = rows_text(table_with_header(minutes, "Nr", "Åtgärd"))
    assert [r[1] for r in rows[1:]] == [NASTY, "Andra steget"]
    assert rows_text(table_with_header(minutes, "Namn", "Organisation"))[1] == [NASTY] * 3


def test_control_characters_are_removed_and_newlines_kept(samples) -> None:
    context = samples.agreement(
        background="Rad ett\nRad två\x00\x01\x0b\x0c\x1f\ufffe slut\r\n\r\nNytt stycke\x07",
        purpose="Syfte\tmed tabb",
    )
    doc = open_docx(render(context))
    texts = [_Para(p._p).text for p in doc.paragraphs]
    assert "Rad ett\nRad två slut" in texts
    assert "Nytt stycke" in texts
    assert "Syfte\tmed tabb" in texts


def test_clean_text_unit() -> None:
    assert rendering.clean_text("a\r\nb") == "a\nb"
    assert rendering.clean_text("a\n\n\nb") == "a\ab"
    assert rendering.clean_text("a\n  \n b") == "a\a b"
    assert rendering.clean_text("x\x00y\x07z\x0c") == "xyz"
    assert rendering.clean_text("{{ 7*7 }} & <b>") == "{{ 7*7 }} & <b>"


# --------------------------------------------------------------------------- decision


@pytest.mark.parametrize(
    ("outcome", "expected", "label"),
    [
        ("approve", "att godkänna att ärendet SOC 2026/0042 går vidare från skedet Dialog till "
                    "skedet Överenskommelse. Beslutet avser ett belopp om 1 250 000 kr.",
         "Bifall"),
        ("reject", "att avslå ärendet SOC 2026/0042.", "Avslag"),
        ("changes_requested", "att återremittera ärendet SOC 2026/0042 för komplettering.",
         "Återremiss för komplettering"),
        ("terminate", "att avsluta partnerskapet i förtid.", "Förtida avslut av partnerskapet"),
    ],
)
def test_decision_outcomes(outcome: str, expected: str, label: str, samples) -> None:
    doc = open_docx(render(samples.decision(outcome=outcome)))
    text = body_text(doc)
    assert expected in text
    others = {"approve": "att godkänna", "reject": "att avslå",
              "changes_requested": "att återremittera", "terminate": "i förtid"}
    for other, phrase in others.items():
        if other != outcome:
            assert phrase not in text
    assert "Förvaltningschef beslutar, med stöd av Socialnämndens delegationsordning, " \
           "punkt 3.4, att" in text
    facts = dict(r for r in rows_text(table_with_header(doc, "Diarienummer")))
    assert facts["Beslut"] == label
    assert facts["Skede"] == "Dialog → Överenskommelse"
    assert facts["Belopp"] == "1 250 000 kr"
    assert facts["Beslutsdatum"] == "2026-11-23"
    assert facts["Beslutsfattare"] == "Karin Berg, Förvaltningschef"
    assert facts["Organisationsnummer"] == "802000-1234"


def test_decision_motivation_and_appeal(decision: DecisionContext) -> None:
    doc = open_docx(render(decision))
    text = body_text(doc)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:2] == ["Beslutet", "Beslutsmotivering"]
    assert "Hur man överklagar" in headings
    assert decision.motivation in text
    assert "13 kap. kommunallagen" in text
    assert "laglighetsprövning" in text.lower()
    assert "inom tre veckor" in text
    assert "anslagstavla" in text
    assert "www.exempelby.se/anslagstavla" in text
    assert "Förvaltningsrätten i Exempelstad" in text
    assert "Box 1000, 100 00 Exempelstad" in text
    assert "direkt till förvaltningsrätten, inte till kommunen" in text
    assert "sara.lindqvist@exempelby.se" in text


def test_decision_optional_rows_disappear(samples) -> None:
    doc = open_docx(render(samples.decision(
        amount=None, officer=None, notice_board_url=None,
        decision_maker={"name": "Per Ek", "title": "Enhetschef"},
    )))
    facts = dict(r for r in rows_text(table_with_header(doc, "Diarienummer")))
    assert "Belopp" not in facts and "Delegation" not in facts
    text = body_text(doc)
    assert "Enhetschef beslutar att godkänna" in text
    assert "Upplysningar" not in text
    assert "None" not in all_text(doc)


# --------------------------------------------------------------------------- minutes, request


def test_minutes(minutes: DialogueMinutesContext) -> None:
    doc = open_docx(render(minutes))
    text = body_text(doc)
    facts = dict(r for r in rows_text(table_with_header(doc, "Diarienummer")))
    assert facts["Datum och tid"] == "2026-10-01, kl. 13.00–15.30"
    assert facts["Plats"] == "Stadshuset, sal Norrbyn"
    participants = rows_text(table_with_header(doc, "Namn", "Organisation"))
    assert participants[1:] == [[p.name, p.organisation, p.role] for p in minutes.participants]
    steps = rows_text(table_with_header(doc, "Nr", "Åtgärd"))
    assert steps[1:] == [
        ["1", "Ta fram utkast till överenskommelse", "Sara Lindqvist", "2026-10-20"],
        ["2", "Skicka budget för 2027", "Ali Hassan", "2026-10-15"],
    ]
    assert "Parterna gick igenom behovsbilden.\nFöreningen presenterade sin verksamhet." in text
    assert [p.text for p in doc.paragraphs if p.style.name == "List Number"] == minutes.agenda
    assert "Nästa möte: 2026-10-29 kl. 13.00, Stadshuset" in text
    assert "Protokollförare" in text and "Justerare" in text


def test_minutes_without_steps(samples) -> None:
    doc = open_docx(render(samples.minutes(next_steps=[], agenda=[], next_meeting=None)))
    text = body_text(doc)
    assert "Inga särskilda åtgärder överenskoms vid mötet." in text
    assert "Åtgärd" not in text and "Dagordning" not in text and "Nästa möte" not in text


def test_followup_request(followup: FollowUpRequestContext) -> None:
    doc = open_docx(render(followup))
    text = body_text(doc)
    assert "Begäran om uppföljningsrapport" in text
    facts = dict(r for r in rows_text(table_with_header(doc, "Mottagare")))
    assert facts["Mottagare"] == "Föreningen Gemenskap i Norrby (802000-1234)"
    assert facts["Rapportperiod"] == "2027-01-01 – 2027-05-31"
    assert facts["Lämnas senast"] == "2027-06-30"
    assert facts["Rapport"] == "Delrapport"
    assert facts["Utbetalda medel för perioden"] == "500 000 kr"
    numbered = [p.text for p in doc.paragraphs if p.style.name == "List Number"]
    assert [n.split(".")[0] for n in numbered] == [
        "Genomförda aktiviteter", "Nådda deltagare", "Använda medel", "Avvikelser"
    ]
    assert "Kopia av protokoll från föreningens årsmöte" in text
    assert "https://iop.exempelby.se" in text
    assert "senast 2027-06-30" in text
    assert "Norrbyvägen 12\n123 50 Exempelby" in text  # address keeps its line break
    assert "slutrapporten" not in text


def test_followup_final_report(samples) -> None:
    doc = open_docx(render(samples.followup(is_final=True, funding_for_period=None,
                                            officer=None)))
    text = body_text(doc)
    assert "en slutrapport" in text
    assert "Eftersom detta är slutrapporten" in text
    facts = dict(r for r in rows_text(table_with_header(doc, "Mottagare")))
    assert facts["Rapport"] == "Slutrapport"
    assert "Utbetalda medel för perioden" not in facts
    assert "Med vänliga hälsningar" not in text


def test_followup_validation(samples) -> None:
    with pytest.raises(ValidationError):
        samples.followup(period_end=date(2026, 1, 1))


# --------------------------------------------------------------------------- filters


def test_filters() -> None:
    assert rendering.sek(1_250_000) == "1 250 000 kr"
    assert rendering.sek(0) == "0 kr"
    assert rendering.sek(999) == "999 kr"
    assert rendering.sek(1000) == "1 000 kr"
    assert rendering.sek(-45_500) == "-45 500 kr"
    assert rendering.sek(None) == ""
    with pytest.raises(TypeError):
        rendering.sek(True)
    assert rendering.datum(date(2026, 11, 23)) == "2026-11-23"
    assert rendering.datum("2026-01-05") == "2026-01-05"
    assert rendering.datum(None) == ""
    assert rendering.datum_lang(date(2026, 11, 23)) == "23 november 2026"
    assert rendering.manader(1) == "1 månad"
    assert rendering.manader(6) == "6 månader"
    assert rendering.skede("identify_need") == "Behovsidentifiering"
    assert rendering.skede("follow_up") == "Uppföljning"
    assert rendering.beslutsutfall("reject") == "Avslag"
    assert set(rendering.FILTERS) >= {"sek", "datum", "datum_lang", "manader", "skede"}


# --------------------------------------------------------------------------- sandbox, errors


def _one_line_template(path: Path, text: str) -> None:
    d = docx.Document()
    d.add_paragraph(text)
    d.save(str(path))


class _Probe(BaseModel):
    template_name: ClassVar[str] = "probe.docx"
    name: str


def test_sandbox_blocks_unsafe_template(tmp_path: Path) -> None:
    _one_line_template(tmp_path / "probe.docx", "{{ name.__class__.__mro__ }}")
    with pytest.raises(TemplateRenderError, match="probe.docx"):
        render(_Probe(name="x"), templates_dir=tmp_path)


def test_unknown_field_fails_loudly(tmp_path: Path) -> None:
    _one_line_template(tmp_path / "probe.docx", "Hej {{ nmae }}")
    with pytest.raises(TemplateRenderError):
        render(_Probe(name="x"), templates_dir=tmp_path)


def test_custom_templates_dir_and_cache_invalidation(tmp_path: Path) -> None:
    path = tmp_path / "probe.docx"
    _one_line_template(path, "Hej {{ name }}!")
    first = render(_Probe(name="Anna & <Bo>"), templates_dir=tmp_path)
    assert first.template_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "Hej Anna & <Bo>!" in body_text(open_docx(first))
    again = render(_Probe(name="Anna"), templates_dir=tmp_path)
    assert again.template_sha256 == first.template_sha256
    _one_line_template(path, "Hejsan {{ name }}, en ny mallversion")
    changed = render(_Probe(name="Anna"), templates_dir=tmp_path)
    assert changed.template_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert changed.template_sha256 != first.template_sha256
    assert "Hejsan Anna, en ny mallversion" in body_text(open_docx(changed))


def test_template_name_cannot_escape_directory() -> None:
    with pytest.raises(ValueError):
        rendering.template_path("../pyproject.toml")
    with pytest.raises(ValueError):
        rendering.template_path("source/build_templates.py")
    with pytest.raises(TypeError):
        render(Organisation(name="x", orgnr="802000-1234"))


def test_renders_are_independent_and_thread_safe(samples) -> None:
    results: dict[int, RenderedDocument] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = render(samples.agreement(
                case=CaseRef(diarienummer=f"SOC 2026/{i:04d}", title=f"Ärende {i}")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, result in results.items():
        head = header_text(open_docx(result))
        assert f"Diarienummer: SOC 2026/{i:04d}" in head
        assert all(f"SOC 2026/{j:04d}" not in head for j in results if j != i)
    # same context twice -> same document XML (zip timestamps may differ)
    a, b = render(samples.agreement()), render(samples.agreement())
    with zipfile.ZipFile(io.BytesIO(a.content)) as za, zipfile.ZipFile(io.BytesIO(b.content)) as zb:
        assert za.read("word/document.xml") == zb.read("word/document.xml")


# --------------------------------------------------------------------------- build script


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_build_script_reproduces_committed_templates(tmp_path: Path) -> None:
    out = tmp_path / "built"
    proc = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    built = sorted(p.name for p in out.glob("*.docx"))
    assert built == sorted(TEMPLATE_NAMES)
    for name in TEMPLATE_NAMES:
        committed, fresh = _parts(TEMPLATES / name), _parts(out / name)
        assert committed.keys() == fresh.keys(), name
        assert committed["word/document.xml"] == fresh["word/document.xml"], (
            f"{name} is stale: run templates/source/build_templates.py"
        )
        for part, data in committed.items():
            assert data == fresh[part], f"{name}:{part} differs from the build script output"
    # and the build is byte-for-byte deterministic on one machine
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(BUILD_SCRIPT), "--out", str(again)], check=True,
                   capture_output=True, timeout=120)
    for name in TEMPLATE_NAMES:
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_templates_render_from_a_copied_directory(tmp_path: Path, samples) -> None:
    for name in TEMPLATE_NAMES:
        shutil.copy(TEMPLATES / name, tmp_path / name)
    result = render(samples.decision(), templates_dir=tmp_path)
    expected = hashlib.sha256((TEMPLATES / "beslut.docx").read_bytes()).hexdigest()
    assert result.template_sha256 == expected


def test_authority_without_optional_contact_details(samples) -> None:
    bare = samples.authority.model_copy(update={"committee": None, "email": None, "phone": None,
                                        "website": None, "postal_address": ""})
    doc = open_docx(render(samples.followup(authority=bare)))
    text = all_text(doc)
    assert "None" not in text
    assert "Exempelby kommun · Socialförvaltningen" in text


# --------------------------------------------------------------------------- appeal, delegation, justering


def test_delegated_decision_counts_the_appeal_period_from_the_reporting_meeting(samples) -> None:
    delegated = body_text(open_docx(render(samples.decision(delegated=True))))
    assert "där nämnden anmäldes om delegationsbeslutet har justerats" in delegated
    assert "protokollet över beslutet har justerats" not in delegated
    own = body_text(open_docx(render(samples.decision(delegated=False))))
    assert "protokollet över beslutet har justerats" in own
    assert "delegationsbeslutet" not in own
    assert "Tillkännagivandet, med dag för anslaget, finns på kommunens anslagstavla: www.exempelby.se/anslagstavla." in delegated


@pytest.mark.parametrize("outcome", ["changes_requested", "approve"])
def test_non_appealable_decision_has_no_appeal_page(outcome: str, samples) -> None:
    doc = open_docx(render(samples.decision(outcome=outcome, appealable=False, appeal_court=None)))
    text = body_text(doc)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Hur man överklagar" not in headings
    assert "inom tre veckor" not in text and "Förvaltningsrätten i" not in text
    assert "kan inte överklagas (13 kap. 2 § kommunallagen)" in text
    with pytest.raises(ValidationError, match="appeal_court"):
        samples.decision(appealable=True, appeal_court=None)


def test_delegation_line_names_the_point_and_the_formatted_limit(samples) -> None:
    maker = {"name": "Karin Berg", "title": "Förvaltningschef",
             "delegation_reference": "Socialnämndens delegationsordning, punkt 3.4", "delegated_limit": 5_000_000}
    doc = open_docx(render(samples.decision(decision_maker=maker, amount_label="Överenskommen finansiering")))
    facts = dict(r for r in rows_text(table_with_header(doc, "Diarienummer")))
    assert facts["Delegation"] == "Socialnämndens delegationsordning, punkt 3.4, beloppsgräns 5 000 000 kr"
    assert facts["Överenskommen finansiering"] == "1 250 000 kr"
    unnamed = open_docx(render(samples.decision(decision_maker={**maker, "delegation_reference": None})))
    assert dict(rows_text(table_with_header(unnamed, "Diarienummer")))["Delegation"] == \
        "Delegerad beslutanderätt, beloppsgräns 5 000 000 kr"


def test_minutes_say_justerat_only_with_a_justerare(samples) -> None:
    signed = body_text(open_docx(render(samples.minutes())))
    assert "Protokollet har justerats" in signed and "Ali Hassan" in signed
    unsigned = body_text(open_docx(render(samples.minutes(adjuster=None))))
    assert "Protokollet har justerats" not in unsigned and "Justerare" not in unsigned
    assert "Protokollet har inte justerats." in unsigned
    assert "Protokollförare: Sara Lindqvist" in unsigned
    bare = body_text(open_docx(render(samples.minutes(adjuster=None, recorder=None))))
    assert "Protokollförare" not in bare


def test_properties_carry_render_time_and_diarienummer_keyword(decision: DecisionContext) -> None:
    from datetime import UTC, datetime

    before = datetime.now(UTC).replace(microsecond=0)
    props = open_docx(render(decision)).core_properties
    assert before <= props.created.replace(tzinfo=UTC) <= datetime.now(UTC)
    assert props.modified == props.created
    assert "SOC 2026/0042" in props.keywords
