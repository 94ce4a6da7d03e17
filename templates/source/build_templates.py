#!/usr/bin/env python3
"""Build the five Swedish docxtpl templates in ``templates/`` and the registrar's report in ``templates/rapporter/``.

    .venv/bin/python templates/source/build_templates.py            # writes templates/*.docx
    .venv/bin/python templates/source/build_templates.py --out DIR  # writes DIR/*.docx

The output is reproducible: same script, same python-docx -> same bytes (fixed zip timestamps
and core properties). The Jinja fields used here are the fields of the pydantic contexts in
``service/documents/contexts.py``; filters (``sek``, ``datum`` ...) are registered in
``service/documents/rendering.py``.

docxtpl tags used: ``{{ ... }}`` inline, ``{% ... %}`` inline, ``{%p ... %}`` (the whole
paragraph is replaced by the tag), ``{%tr ... %}`` (the whole table row is replaced by the tag).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.dont_write_bytecode = True  # keep templates/source/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))

from docx.document import Document as DocumentObject  # noqa: E402

from docx_kit import (  # noqa: E402
    LABEL_FILL,
    box,
    bullets,
    cell_para,
    cell_text,
    heading,
    key_value_table,
    landscape,
    letterhead,
    loop_table,
    new_document,
    para,
    save_reproducible,
    shade,
    signature_table,
    spacer,
    tag,
    title_block,
    new_table,
    cant_split,
    repeat_header,
)

TEMPLATES_DIR = Path(__file__).resolve().parents[1]

PRINCIPLES: list[tuple[str, str]] = [
    (
        "Självständighet och oberoende",
        "Organisationens självständighet och oberoende respekteras. Organisationen bestämmer "
        "själv över sin inre organisation, sin värdegrund och sitt sätt att arbeta och har rätt "
        "att fritt driva opinion, även i frågor som rör kommunen och under partnerskapets "
        "giltighetstid.",
    ),
    (
        "Dialog",
        "Parterna för en regelbunden, öppen och respektfull dialog om partnerskapets "
        "inriktning, genomförande och utveckling. Båda parter har rätt att initiera dialog.",
    ),
    (
        "Kvalitet",
        "Verksamheten ska hålla god kvalitet utifrån målgruppens behov. Kvaliteten följs upp "
        "gemensamt, och parterna tar tillvara den kunskap och de erfarenheter som "
        "organisationen och dess deltagare har.",
    ),
    (
        "Långsiktighet",
        "Parterna eftersträvar långsiktiga förutsättningar för verksamheten. Förändringar som "
        "påverkar partnerskapet ska aviseras i god tid.",
    ),
    (
        "Öppenhet och insyn",
        "Parterna är öppna med information som rör partnerskapet. Kommunen har insyn i hur de "
        "offentliga medlen används. Handlingar som kommer in till kommunen blir allmänna "
        "handlingar enligt offentlighetsprincipen.",
    ),
    (
        "Mångfald",
        "Partnerskapet bidrar till en mångfald av utförare och arbetssätt och ska vara öppet "
        "och tillgängligt för alla i målgruppen, oavsett bakgrund och förutsättningar.",
    ),
]


# --------------------------------------------------------------------------- iop_avtal.docx


def build_agreement() -> DocumentObject:
    doc = new_document(
        "Överenskommelse om idéburet offentligt partnerskap (IOP)",
        "IOP-avtal",
    )
    letterhead(doc, "Överenskommelse")
    title_block(doc, "Överenskommelse om idéburet offentligt partnerskap (IOP)",
                "{{ case.title }}")

    para(doc, [
        "Denna överenskommelse om idéburet offentligt partnerskap (IOP) har träffats mellan ",
        ("{{ public_party.name }}", "b"), " och ", ("{{ organisation.name }}", "b"),
        ". Partnerskapet bygger på de principer som anges i den nationella överenskommelsen "
        "mellan regeringen, idéburna organisationer och Sveriges Kommuner och Regioner. "
        "Behovet har identifierats gemensamt och båda parter bidrar med resurser. "
        "Partnerskapet är varken en upphandling enligt lagen (2016:1145) om offentlig "
        "upphandling eller ett generellt föreningsbidrag.",
    ])

    heading(doc, "Parter", 2)
    signatories = ("{% for s in P.signatories %}{{ s.name }}, {{ s.role }}"
                   "{% if not loop.last %}; {% endif %}{% endfor %}")
    rows = [
        ("Namn", "{{ public_party.name }}", "{{ organisation.name }}"),
        ("Organisationsnummer", "{{ public_party.orgnr }}", "{{ organisation.orgnr }}"),
        # No always-empty row: the address row only when a party has an address.
        ("{%tr if public_party.address or organisation.address %}", "", ""),
        ("Adress", "{{ public_party.address }}", "{{ organisation.address }}"),
        ("{%tr endif %}", "", ""),
        ("Företrädd av", signatories.replace("P.", "public_party."),
         signatories.replace("P.", "organisation.")),
    ]
    table = new_table(doc, 1 + len(rows), 3, [4.0, 6.0, 6.0])
    head = table.rows[0]
    shade(head.cells[0], LABEL_FILL)
    for cell, text in zip(head.cells[1:], ("Offentlig part", "Idéburen organisation")):
        shade(cell, LABEL_FILL)
        cell_text(cell, text, "Tabellrubrik")
    for row, (label, pub, org) in zip(table.rows[1:], rows, strict=True):
        if label.startswith("{%tr"):
            cell_text(row.cells[0], label)
            continue
        cant_split(row)
        shade(row.cells[0], LABEL_FILL)
        cell_text(row.cells[0], (label, "b"))
        cell_text(row.cells[1], pub)
        cell_text(row.cells[2], org)
    spacer(doc)

    heading(doc, "Översikt", 2)
    key_value_table(doc, [
        ("Diarienummer", "{{ case.diarienummer }}"),
        ("Ärende", "{{ case.title }}"),
        ("Avtalsperiod", "{{ period_start|datum }} – {{ period_end|datum }}"),
        ("Offentlig finansiering", "{{ funding_amount|sek }}"),
        ("Uppsägningstid", "{{ notice_period_months|manader }}"),
    ])

    heading(doc, "1 Bakgrund och behovsanalys")
    para(doc, "{{ background }}")

    heading(doc, "2 Syfte och mål")
    para(doc, "{{ purpose }}")
    tag(doc, "{%p if goals %}")
    para(doc, "Partnerskapets mål är att:", keep_next=True)
    bullets(doc, "goal in goals", "{{ goal }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if indicators %}")
    para(doc, "Målen följs upp med dessa indikatorer:", keep_next=True)
    loop_table(
        doc,
        ["Mål och indikator", "Utgångsvärde", "Målvärde", "Hur det mäts", "Rapporteras i"],
        [4.4, 2.4, 2.4, 4.2, 2.6],
        loop="ind in indicators",
        cells=[[("{{ ind.name }}", "b"), " ({{ ind.unit }}) – {{ ind.goal }}"], "{{ ind.baseline }}", "{{ ind.target }}",
               "{{ ind.how_measured }}", "{{ ind.periods }}"],
        align=[None, "right", "right", None, None],
    )
    tag(doc, "{%p endif %}")

    heading(doc, "3 Målgrupp")
    para(doc, "{{ target_group }}")

    heading(doc, "4 Verksamhet och aktiviteter")
    para(doc, "{{ activities }}")

    heading(doc, "5 Parternas åtaganden och bidrag")
    para(doc, "Båda parter bidrar till partnerskapet med ekonomiska medel och/eller andra "
              "resurser, till exempel ideellt arbete, lokaler och kompetens. Parternas "
              "åtaganden och bidrag framgår av tabellen nedan.", keep_next=True)
    loop_table(
        doc,
        ["Part", "Bidrag", "Beskrivning", "Belopp/omfattning"],
        [3.4, 3.2, 6.0, 3.4],
        loop="c in contributions",
        cells=[
            ("{{ c.party }}", "b"),
            "{{ c.kind }}",
            "{{ c.description }}",
            "{{ c.amount|sek }}{% if c.amount is not none and c.extent %}, {% endif %}"
            "{{ c.extent }}",
        ],
    )

    heading(doc, "6 Finansiering och utbetalningsplan")
    para(doc, [
        "{{ public_party.name }} bidrar till partnerskapet med totalt ",
        ("{{ funding_amount|sek }}", "b"),
        " för avtalsperioden {{ period_start|datum }} – {{ period_end|datum }}. "
        "Medlen får endast användas för den verksamhet som beskrivs i denna överenskommelse.",
    ])
    tag(doc, "{%p if instalments %}")
    para(doc, "Medlen betalas ut enligt följande utbetalningsplan:", keep_next=True)
    # No always-empty column: "Villkor/kommentar" only when an instalment has a note.
    tag(doc, "{%p if instalments|selectattr('note')|list %}")
    loop_table(
        doc,
        ["Nr", "Utbetalningsdatum", "Belopp", "Villkor/kommentar"],
        [1.4, 3.6, 3.6, 7.4],
        loop="i in instalments",
        cells=["{{ loop.index }}", "{{ i.due_date|datum }}", "{{ i.amount|sek }}",
               "{{ i.note }}"],
        align=[None, None, "right", None],
        total=["Summa", "{{ funding_amount|sek }}", ""],
        total_span=2,
        nowrap=(1, 2),
    )
    tag(doc, "{%p else %}")
    loop_table(
        doc,
        ["Nr", "Utbetalningsdatum", "Belopp"],
        [1.4, 7.3, 7.3],
        loop="i in instalments",
        cells=["{{ loop.index }}", "{{ i.due_date|datum }}", "{{ i.amount|sek }}"],
        align=[None, None, "right"],
        total=["Summa", "{{ funding_amount|sek }}"],
        total_span=2,
        nowrap=(1, 2),
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p else %}")
    para(doc, "Utbetalningsplan bestäms särskilt av parterna.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if payment_terms %}")
    para(doc, "{{ payment_terms }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if state_aid_basis %}")
    para(doc, [("Statsstöd: ", "b"), "{{ state_aid_basis }}"])
    tag(doc, "{%p endif %}")
    para(doc, "Medel som inte har använts i enlighet med överenskommelsen, eller som inte har "
              "förbrukats när avtalsperioden löper ut, ska återbetalas till "
              "{{ public_party.name }} om inte parterna skriftligen kommer överens om annat.")

    heading(doc, "7 Avtalsperiod, förlängning och uppsägning")
    para(doc, [
        "Överenskommelsen gäller från och med ", ("{{ period_start|datum }}", "b"),
        " till och med ", ("{{ period_end|datum }}", "b"), ".",
    ])
    tag(doc, "{%p if extension_terms %}")
    para(doc, [("Förlängning: ", "b"), "{{ extension_terms }}"])
    tag(doc, "{%p else %}")
    para(doc, [("Förlängning: ", "b"),
               "Överenskommelsen kan förlängas efter gemensam utvärdering. Förlängning "
               "kräver skriftlig överenskommelse mellan parterna före avtalsperiodens slut."])
    tag(doc, "{%p endif %}")
    para(doc, [("Uppsägning: ", "b"),
               "Vardera parten får säga upp överenskommelsen med en uppsägningstid om "
               "{{ notice_period_months|manader }}. Uppsägningen ska vara skriftlig och "
               "föregås av dialog mellan parterna."])

    heading(doc, "8 Styrning och samverkan")
    para(doc, "Parterna ansvarar gemensamt för att partnerskapet styrs, utvecklas och följs "
              "upp i dialog. Beslut om verksamhetens inriktning inom ramen för denna "
              "överenskommelse fattas i samförstånd.")
    tag(doc, "{%p if steering_group %}")
    para(doc, [("Styrgrupp: ", "b"), "{{ steering_group }}"])
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if working_group %}")
    para(doc, [("Arbetsgrupp: ", "b"), "{{ working_group }}"])
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if governance_notes %}")
    para(doc, "{{ governance_notes }}")
    tag(doc, "{%p endif %}")

    heading(doc, "9 Uppföljning och rapportering")
    para(doc, "{{ organisation.name }} rapporterar verksamheten till {{ public_party.name }}. "
              "Varje rapport ska beskriva genomförda aktiviteter, antal deltagare som har "
              "nåtts, hur medlen har använts samt eventuella avvikelser från det som "
              "överenskommits. Parterna följer dessutom upp partnerskapet gemensamt i "
              "dialog minst en gång per år.", keep_next=True)
    tag(doc, "{%p if reports %}")
    # No always-empty column: "Avser period" only when a report names its period.
    tag(doc, "{%p if reports|selectattr('period_start')|list %}")
    loop_table(
        doc,
        ["Nr", "Lämnas senast", "Rapport", "Avser period"],
        [1.4, 3.2, 6.6, 4.8],
        loop="r in reports",
        cells=[
            "{{ loop.index }}",
            "{{ r.due_date|datum }}",
            "{{ r.description }}",
            "{% if r.period_start %}{{ r.period_start|datum }} – "
            "{{ r.period_end|datum }}{% endif %}",
        ],
        nowrap=(1,),
    )
    tag(doc, "{%p else %}")
    loop_table(
        doc,
        ["Nr", "Lämnas senast", "Rapport"],
        [1.4, 3.2, 11.4],
        loop="r in reports",
        cells=["{{ loop.index }}", "{{ r.due_date|datum }}", "{{ r.description }}"],
        nowrap=(1,),
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if follow_up_notes %}")
    para(doc, "{{ follow_up_notes }}")
    tag(doc, "{%p endif %}")

    heading(doc, "10 Värdegrund")
    para(doc, "Partnerskapet vilar på de sex principerna i den nationella överenskommelsen. "
              "Parterna förbinder sig att tillämpa dem på följande sätt:", keep_next=True)
    vtable = new_table(doc, 1 + len(PRINCIPLES), 2, [4.6, 11.4])
    head = vtable.rows[0]
    repeat_header(head)
    for cell, text in zip(head.cells, ("Princip", "Innebörd i partnerskapet")):
        shade(cell, "DCE4EF")
        cell_text(cell, text, "Tabellrubrik")
    for row, (name, text) in zip(vtable.rows[1:], PRINCIPLES, strict=True):
        cant_split(row)
        cell_text(row.cells[0], (name, "b"))
        cell_text(row.cells[1], text)
    spacer(doc)
    tag(doc, "{%p if values_notes %}")
    para(doc, "{{ values_notes }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if joined_local_agreement_on %}")
    para(doc, "{{ organisation.name }} har anslutit sig till den lokala överenskommelsen mellan "
              "{{ authority.municipality }} och den idéburna sektorn sedan "
              "{{ joined_local_agreement_on|datum }}.")
    tag(doc, "{%p endif %}")

    heading(doc, "11 Ändringar och tillägg")
    para(doc, "Ändringar av och tillägg till denna överenskommelse ska göras skriftligen och "
              "undertecknas av båda parter för att vara giltiga. Parterna ska utan dröjsmål "
              "informera varandra om förhållanden som kan påverka partnerskapet, till exempel "
              "väsentligt ändrade förutsättningar för verksamheten, ekonomin eller målgruppen.")
    tag(doc, "{%p if changes_notes %}")
    para(doc, "{{ changes_notes }}")
    tag(doc, "{%p endif %}")

    heading(doc, "12 Hävning, uppsägning och tvist")
    para(doc, [("Hävning: ", "b"),
               "Part får häva överenskommelsen med omedelbar verkan om den andra parten i "
               "väsentligt avseende bryter mot sina åtaganden och inte vidtar rättelse inom "
               "30 dagar efter skriftlig anmodan. Överenskommelsen får även hävas om "
               "organisationen försätts i konkurs, träder i likvidation, upphör att vara en "
               "idéburen organisation eller har lämnat oriktiga uppgifter av betydelse för "
               "partnerskapet."])
    para(doc, [("Återbetalning: ", "b"),
               "Vid hävning eller uppsägning får {{ public_party.name }} hålla inne "
               "kommande utbetalningar och kräva tillbaka utbetalda medel som inte har "
               "använts i enlighet med överenskommelsen."])
    para(doc, [("Tvist: ", "b"),
               "Tvist om tolkning eller tillämpning av överenskommelsen ska i första hand "
               "lösas genom dialog mellan parterna. Om parterna inte kan enas ska tvisten "
               "avgöras av allmän domstol med tillämpning av svensk rätt."])
    tag(doc, "{%p if termination_notes %}")
    para(doc, "{{ termination_notes }}")
    tag(doc, "{%p endif %}")

    heading(doc, "13 Underskrifter")
    para(doc, "Denna överenskommelse har upprättats i två likalydande exemplar, varav parterna "
              "har tagit var sitt. Vid elektronisk underskrift gäller den elektroniskt "
              "undertecknade handlingen.", keep_next=True)
    spacer(doc, 10).paragraph_format.keep_with_next = True

    def party_block(prefix: str):
        # One signature line per firmatecknare (one or two per party).
        return (
            [("För {{ " + prefix + ".name }}", "b")],
            [
                ("{% if s.place %}{{ s.place }}{% endif %}"
                 "{% if s.place and s.signed_on %}, {% endif %}"
                 "{{ s.signed_on|datum }}", "Ort och datum"),
                ("{{ s.name }}", "Namnförtydligande"),
                ("{{ s.role }}", "Befattning/roll"),
            ],
            f"s in {prefix}.signatories",
        )

    signature_table(doc, [party_block("public_party"), party_block("organisation")])
    return doc


# --------------------------------------------------------------------------- beslut.docx


def build_decision() -> DocumentObject:
    doc = new_document("Beslut", "Beslut i IOP-ärende")
    letterhead(doc, "Beslut")
    title_block(doc, "Beslut", "{{ case.title }}")

    key_value_table(doc, [
        ("Diarienummer", ("{{ case.diarienummer }}", "b")),
        ("Beslutsdatum", "{{ decision_date|datum }}"),
        ("Beslutsfattare", "{{ decision_maker.name }}, {{ decision_maker.title }}"),
        ("{%tr if decision_maker.delegation_reference or decision_maker.delegated_limit is not none %}", ""),
        ("Delegation",
         "{% if decision_maker.delegation_reference %}{{ decision_maker.delegation_reference }}"
         "{% else %}Delegerad beslutanderätt{% endif %}"
         "{% if decision_maker.delegated_limit is not none %}, beloppsgräns "
         "{{ decision_maker.delegated_limit|sek }}{% endif %}"),
        ("{%tr endif %}", ""),
        ("Organisation", "{{ organisation.name }}"),
        ("Organisationsnummer", "{{ organisation.orgnr }}"),
        ("Ärende", "{{ case.title }}"),
        ("Skede", "{{ from_stage|skede }} → {{ to_stage|skede }}"),
        ("Beslut", ("{{ outcome|beslutsutfall }}", "b")),
        ("{%tr if amount is not none %}", ""),
        ("{{ amount_label }}", "{{ amount|sek }}"),
        ("{%tr endif %}", ""),
    ])

    heading(doc, "Beslutet")
    by = ("{{ decision_maker.title }} beslutar"
          "{% if decision_maker.delegation_reference %}, med stöd av "
          "{{ decision_maker.delegation_reference }},{% endif %}")
    tag(doc, "{%p if outcome == 'approve' %}")
    para(doc, [by + " att ", ("godkänna", "b"),
               " att ärendet {{ case.diarienummer }} går vidare från skedet "
               "{{ from_stage|skede }} till skedet {{ to_stage|skede }}."
               "{% if amount is not none %} Beslutet avser ett belopp om "
               "{{ amount|sek }}.{% endif %}"])
    tag(doc, "{%p elif outcome == 'reject' %}")
    para(doc, [by + " att ", ("avslå", "b"),
               " ärendet {{ case.diarienummer }}. Ärendet avslutas och går inte vidare från "
               "skedet {{ from_stage|skede }}."])
    tag(doc, "{%p elif outcome == 'changes_requested' %}")
    para(doc, [by + " att ", ("återremittera", "b"),
               " ärendet {{ case.diarienummer }} för komplettering. Ärendet går i nuläget inte "
               "vidare till skedet {{ to_stage|skede }} utan ligger kvar i skedet "
               "{{ from_stage|skede }} tills kompletteringen har kommit in och prövats på "
               "nytt."])
    tag(doc, "{%p else %}")
    para(doc, [by + " att ", ("avsluta partnerskapet i förtid", "b"),
               ". Överenskommelsen i ärende {{ case.diarienummer }} upphör och ärendet "
               "avslutas."])
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if conditions %}")
    para(doc, "Beslutet förenas med följande villkor:", keep_next=True)
    bullets(doc, "condition in conditions", "{{ condition }}")
    tag(doc, "{%p endif %}")

    heading(doc, "Beslutsmotivering")
    para(doc, "{{ motivation }}")

    para(doc, [("{{ decision_maker.name }}", "b")], before=18, after=0)
    para(doc, "{{ decision_maker.title }}", after=10)

    para(doc, [("Beslutet skickas till: ", "b"),
               "{{ organisation.name }}{% if organisation.contact %}, att. "
               "{{ organisation.contact.name }}{% endif %}; akten."], after=14)

    tag(doc, "{%p if officer %}")
    heading(doc, "Upplysningar", 2)
    para(doc, "Har du frågor om beslutet är du välkommen att kontakta "
              "{{ officer.name }}{% if officer.title %}, {{ officer.title }}{% endif %}"
              "{% if officer.phone %}, telefon {{ officer.phone }}{% endif %}"
              "{% if officer.email %}, e-post {{ officer.email }}{% endif %}.")
    tag(doc, "{%p endif %}")

    # Only a decision that can be appealed gets the appeal page (13 kap. 2 § kommunallagen).
    tag(doc, "{%p if appealable %}")
    heading(doc, "Hur man överklagar").paragraph_format.page_break_before = True
    cell = box(doc)
    cell_text(cell, [("Laglighetsprövning enligt 13 kap. kommunallagen (2017:725)", "b")])
    cell_para(cell, "Varje medlem av kommunen har rätt att få lagligheten av beslutet prövad "
                    "genom att överklaga det till förvaltningsrätten (laglighetsprövning).",
              before=4)
    cell_para(cell, [
        ("Tid för överklagande: ", "b"),
        "Överklagandet ska ha kommit in till förvaltningsrätten ",
        ("inom tre veckor", "b"),
        "{% if delegated %} från den dag då det tillkännagavs på kommunens anslagstavla att "
        "protokollet från det sammanträde där nämnden anmäldes om delegationsbeslutet har "
        "justerats (13 kap. 5 § och 6 kap. 40 § kommunallagen). Beslutet är fattat med stöd "
        "av delegation och anmäls till nämndens nästa sammanträde; tiden räknas inte från "
        "beslutsdagen.{% else %} från den dag då det tillkännagavs på kommunens anslagstavla att "
        "protokollet över beslutet har justerats (13 kap. 5 § kommunallagen).{% endif %}",
        "{% if notice_board_url %} Tillkännagivandet, med dag för anslaget, finns på kommunens "
        "anslagstavla: {{ notice_board_url }}.{% else %} Dagen för anslaget framgår av "
        "kommunens anslagstavla.{% endif %}",
    ], before=4)
    cell_para(cell, [
        ("Vart överklagandet skickas: ", "b"),
        "Skicka överklagandet direkt till förvaltningsrätten, inte till kommunen: ",
        ("{{ appeal_court.name }}", "b"),
        "{% if appeal_court.address %}, {{ appeal_court.address }}{% endif %}"
        "{% if appeal_court.email %}, e-post {{ appeal_court.email }}{% endif %}.",
    ], before=4)
    cell_para(cell, [
        ("Överklagandets innehåll: ", "b"),
        "Ange vilket beslut som överklagas (beslutsdatum {{ decision_date|datum }} och "
        "diarienummer {{ case.diarienummer }}), varför beslutet enligt din mening inte är "
        "lagligt, samt ditt namn, din adress och ditt telefonnummer. Förvaltningsrätten prövar "
        "endast de omständigheter som har angetts inom överklagandetiden.",
    ], before=4)
    cell_para(cell, [
        ("Prövningen: ", "b"),
        "Beslutet kan upphävas om det inte har kommit till på lagligt sätt, om det avser något "
        "som inte är en angelägenhet för kommunen, om det organ som har fattat beslutet har "
        "överskridit sina befogenheter eller om beslutet strider mot lag eller annan "
        "författning (13 kap. 8 § kommunallagen). Förvaltningsrätten kan inte sätta ett annat "
        "beslut i stället för det överklagade.",
    ], before=4, after=2)
    spacer(doc, 8)
    tag(doc, "{%p else %}")
    para(doc, [("Överklagande: ", "b"),
               "Beslutet är ett led i beredningen av ärendet och kan inte överklagas "
               "(13 kap. 2 § kommunallagen). Det slutliga beslutet i ärendet kan överklagas "
               "genom laglighetsprövning."], before=12)
    tag(doc, "{%p endif %}")
    return doc


# ------------------------------------------------------------------ dialogmote_protokoll.docx


def build_minutes() -> DocumentObject:
    doc = new_document("Protokoll från dialogmöte", "Dialogmöte i IOP-ärende")
    letterhead(doc, "Protokoll")
    title_block(doc, "Protokoll från dialogmöte", "{{ case.title }}")

    key_value_table(doc, [
        ("Diarienummer", ("{{ case.diarienummer }}", "b")),
        ("Organisation", "{{ organisation.name }}"),
        ("Organisationsnummer", "{{ organisation.orgnr }}"),
        ("Datum och tid",
         "{{ meeting_date|datum }}{% if start_time %}, kl. {{ start_time|klockslag }}"
         "{% if end_time %}–{{ end_time|klockslag }}{% endif %}{% endif %}"),
        ("Plats", "{{ place }}"),
    ])

    heading(doc, "Närvarande")
    loop_table(
        doc,
        ["Namn", "Organisation", "Roll"],
        [5.2, 5.8, 5.0],
        loop="p in participants",
        cells=["{{ p.name }}", "{{ p.organisation }}", "{{ p.role }}"],
    )

    tag(doc, "{%p if agenda %}")
    heading(doc, "Dagordning")
    bullets(doc, "item in agenda", "{{ item }}", style="List Number")
    tag(doc, "{%p endif %}")

    heading(doc, "Anteckningar")
    para(doc, "{{ notes }}")

    heading(doc, "Överenskomna nästa steg")
    tag(doc, "{%p if next_steps %}")
    loop_table(
        doc,
        ["Nr", "Åtgärd", "Ansvarig", "Klart senast"],
        [1.2, 8.6, 3.5, 2.7],
        loop="step in next_steps",
        cells=["{{ loop.index }}", "{{ step.description }}", "{{ step.responsible }}",
               "{{ step.due_date|datum }}"],
        nowrap=(3,),
    )
    tag(doc, "{%p else %}")
    para(doc, "Inga särskilda åtgärder överenskoms vid mötet.")
    tag(doc, "{%p endif %}")

    tag(doc, "{%p if next_meeting %}")
    para(doc, [("Nästa möte: ", "b"), "{{ next_meeting }}"])
    tag(doc, "{%p endif %}")

    heading(doc, "Justering")
    # "Justerat" only when someone justerar: without a justerare the minutes say they are not.
    tag(doc, "{%p if adjuster %}")
    para(doc, "Protokollet har justerats av protokollförare och justerare. Synpunkter på "
              "protokollet lämnas till handläggaren senast två veckor efter mötet.",
         keep_next=True)
    spacer(doc, 10).paragraph_format.keep_with_next = True
    signature_table(doc, [
        ([("Protokollförare", "b")],
         [("{{ recorder }}", "Namnförtydligande")]),
        ([("Justerare", "b")],
         [("{{ adjuster }}", "Namnförtydligande")]),
    ])
    tag(doc, "{%p else %}")
    para(doc, "Protokollet har inte justerats. Synpunkter på protokollet lämnas till "
              "handläggaren senast två veckor efter mötet.")
    tag(doc, "{%p if recorder %}")
    para(doc, [("Protokollförare: ", "b"), "{{ recorder }}"])
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endif %}")
    return doc


# ------------------------------------------------------------------- uppfoljning_begaran.docx


def build_followup_request() -> DocumentObject:
    doc = new_document("Begäran om uppföljningsrapport", "Uppföljning av IOP")
    letterhead(doc, "Begäran")

    # recipient block, as in a letter
    para(doc, ("{{ organisation.name }}", "b"), after=0)
    tag(doc, "{%p if organisation.contact %}")
    para(doc, "Att: {{ organisation.contact.name }}"
              "{% if organisation.contact.title %}, {{ organisation.contact.title }}"
              "{% endif %}", after=0)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if organisation.address %}")
    para(doc, "{{ organisation.address }}", after=0)
    tag(doc, "{%p endif %}")
    para(doc, "Org.nr {{ organisation.orgnr }}", after=18)

    title_block(doc, "Begäran om uppföljningsrapport", "{{ case.title }}")

    para(doc, [
        "Enligt överenskommelsen om idéburet offentligt partnerskap (IOP) i ärende ",
        ("{{ case.diarienummer }}", "b"),
        "{% if agreement_date %}, undertecknad {{ agreement_date|datum }},{% endif %}"
        " ska {{ organisation.name }} lämna ",
        ("{% if is_final %}en slutrapport{% else %}en delrapport{% endif %}", "b"),
        " om verksamheten. Vi ber er därför att lämna en rapport enligt nedan.",
    ])

    key_value_table(doc, [
        ("Mottagare", "{{ organisation.name }} ({{ organisation.orgnr }})"),
        ("Diarienummer", "{{ case.diarienummer }}"),
        ("Rapport", "{% if is_final %}Slutrapport{% else %}Delrapport{% endif %}"),
        ("Rapportperiod", "{{ period_start|datum }} – {{ period_end|datum }}"),
        ("Lämnas senast", ("{{ due_date|datum }}", "b")),
        ("{%tr if funding_for_period is not none %}", ""),
        ("Utbetalda medel för perioden", "{{ funding_for_period|sek }}"),
        ("{%tr endif %}", ""),
    ])

    heading(doc, "Rapporten ska innehålla")
    items = [
        ("Genomförda aktiviteter",
         "Vilka aktiviteter som har genomförts under perioden, i förhållande till det som "
         "planerades i överenskommelsen."),
        ("Nådda deltagare",
         "Hur många personer i målgruppen som har nåtts, gärna fördelat per aktivitet, och "
         "hur de har nåtts. Redovisa antal, inte namn eller andra personuppgifter."),
        ("Använda medel",
         "Hur de offentliga medlen och organisationens egna insatser (till exempel ideella "
         "timmar och lokaler) har använts, med en ekonomisk redovisning av intäkter och "
         "kostnader för perioden samt eventuella medel som inte har förbrukats."),
        ("Avvikelser",
         "Avvikelser från planerad verksamhet, mål eller budget, vad de beror på och vilka "
         "åtgärder som har vidtagits eller föreslås."),
    ]
    for lead, text in items:
        para(doc, [(lead + ". ", "b"), text], "List Number")
    tag(doc, "{%p if is_final %}")
    para(doc, "Eftersom detta är slutrapporten ska den även innehålla en samlad bedömning av "
              "hur partnerskapets syfte och mål har uppnåtts under hela avtalsperioden och "
              "vilka lärdomar parterna kan ta med sig.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if indicators %}")
    para(doc, "Redovisa uppnått värde för perioden för varje indikator i överenskommelsen nedan, med en kommentar om "
              "hur värdet har tagits fram och om det avviker från målvärdet.", keep_next=True)
    loop_table(
        doc,
        ["Mål och indikator", "Enhet", "Målvärde", "Hur det mäts"],
        [5.6, 2.2, 2.6, 5.6],
        loop="ind in indicators",
        cells=[[("{{ ind.name }}", "b"), " – {{ ind.goal }}"], "{{ ind.unit }}", "{{ ind.target }}", "{{ ind.how_measured }}"],
        align=[None, None, "right", None],
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if additional_requirements %}")
    para(doc, "Rapporten ska dessutom innehålla:", keep_next=True)
    bullets(doc, "req in additional_requirements", "{{ req }}")
    tag(doc, "{%p endif %}")

    heading(doc, "Så lämnar ni rapporten")
    para(doc, [
        "Rapporten lämnas i e-tjänsten IOP Partnerskap under ärende {{ case.diarienummer }}"
        "{% if submission_url %} ({{ submission_url }}){% endif %}.",
        "{% if submission_email %} Det går också att skicka rapporten med e-post till "
        "{{ submission_email }}; ange diarienummer {{ case.diarienummer }} i ämnesraden."
        "{% endif %}",
    ])
    para(doc, [
        "Rapporten ska ha kommit in ", ("senast {{ due_date|datum }}", "b"),
        ". Behöver ni mer tid, kontakta handläggaren före detta datum. Efter att rapporten "
        "har kommit in bedömer vi den och följer upp den tillsammans med er i dialog. "
        "Om rapporten inte kommer in kan kommande utbetalningar hållas inne enligt "
        "överenskommelsen.",
    ])
    para(doc, [("Offentlighet: ", "b"),
               "Handlingar som kommer in till kommunen blir allmänna handlingar. Lämna inte "
               "uppgifter om enskilda deltagares personliga förhållanden i rapporten."])

    tag(doc, "{%p if officer %}")
    para(doc, "Med vänliga hälsningar", before=12, after=14, keep_next=True)
    para(doc, ("{{ officer.name }}", "b"), after=0, keep_next=True)
    para(doc, "{{ officer.title }}", after=0, keep_next=True)
    para(doc, "{{ authority.department }}, {{ authority.municipality }}", after=0,
         keep_next=True)
    para(doc, "{% if officer.phone %}Telefon {{ officer.phone }}{% endif %}"
              "{% if officer.phone and officer.email %} · {% endif %}"
              "{% if officer.email %}{{ officer.email }}{% endif %}", after=0)
    tag(doc, "{%p endif %}")
    return doc


# ------------------------------------------------------------------- uppfoljningsrapport.docx


def build_followup_summary() -> DocumentObject:
    doc = new_document("Uppföljningsrapport", "Uppföljning av IOP")
    letterhead(doc, "Uppföljning")
    title_block(doc, "{% if is_final %}Slutrapport{% else %}Uppföljningsrapport{% endif %}", "{{ case.title }}")

    key_value_table(doc, [
        ("Organisation", "{{ organisation.name }} ({{ organisation.orgnr }})"),
        ("Diarienummer", "{{ case.diarienummer }}"),
        ("Rapportperiod", "{{ period_start|datum }} – {{ period_end|datum }}"),
        ("Skulle lämnas senast", "{{ due_date|datum }}"),
        ("Inlämnad", "{{ submitted_on|datum }}"),
        ("Bedömning", ("{% if assessment %}{{ assessment }}{% if assessed_on %} ({{ assessed_on|datum }}){% endif %}"
                       "{% else %}Inte bedömd ännu{% endif %}", "b")),
    ])

    heading(doc, "Mål och indikatorer")
    tag(doc, "{%p if results %}")
    loop_table(
        doc,
        ["Mål och indikator", "Målvärde", "Uppnått", "Organisationens kommentar", "Bedömning"],
        [4.4, 2.2, 2.2, 4.0, 3.2],
        loop="r in results",
        cells=[[("{{ r.name }}", "b"), " – {{ r.goal }}"], "{{ r.target }}", ("{{ r.achieved }}", "b"), "{{ r.comment }}",
               [("{% if r.rating %}{{ r.rating }}{% else %}Inte bedömd{% endif %}", "b"),
                "{% if r.rating_comment %}: {{ r.rating_comment }}{% endif %}"]],
        align=[None, "right", "right", None, None],
    )
    tag(doc, "{%p else %}")
    para(doc, "Rapporten redovisar inga indikatorer för perioden.")
    tag(doc, "{%p endif %}")

    heading(doc, "Genomförda aktiviteter")
    para(doc, "{{ activities_done }}")
    key_value_table(doc, [
        ("Nådda deltagare", "{{ participants_reached }}"),
        ("Använda medel under perioden", "{{ money_used|sek }}"),
    ])
    heading(doc, "Avvikelser")
    para(doc, "{% if deviations %}{{ deviations }}{% else %}Inga avvikelser redovisade.{% endif %}")

    heading(doc, "Handläggarens bedömning")
    para(doc, [("{% if assessment %}{{ assessment }}.{% else %}Rapporten är inte bedömd ännu.{% endif %}", "b"),
               "{% if assessment_comment %} {{ assessment_comment }}{% endif %}"])
    tag(doc, "{%p if officer %}")
    para(doc, ("{{ officer.name }}", "b"), before=12, after=0, keep_next=True)
    para(doc, "{{ officer.title }}", after=0, keep_next=True)
    para(doc, "{{ authority.department }}, {{ authority.municipality }}", after=0)
    tag(doc, "{%p endif %}")
    return doc


# ------------------------------------------------------------------- rapporter/diarierapport.docx


def build_diary_report() -> DocumentObject:
    doc = new_document("Diarierapport", "Diarieförda handlingar under en period")
    width = landscape(doc)
    letterhead(doc, "Diarierapport", reference=["Period: ", ("{{ period_from|datum }} – {{ period_to|datum }}", "b")],
               footer_reference="Diarierapport {{ period_from|datum }} – {{ period_to|datum }}", text_width_cm=width)
    title_block(doc, "Diarierapport", "{{ scope }}")

    key_value_table(doc, [
        ("Period", "{{ period_from|datum }} – {{ period_to|datum }}"),
        ("Antal diarieposter", ("{{ entries|length }}", "b")),
        ("Varav sekretessmarkerade", "{{ confidential_count }}"),
        ("Utdraget av", "{{ drawn_up_by }}"),
    ])
    tag(doc, "{%p if confidential_count %}")
    para(doc, ("Rapporten innehåller sekretessmarkerade diarieposter, markerade med hänvisning till offentlighets- och "
               "sekretesslagen (OSL). Den får inte lämnas ut utan en sekretessprövning.", "b"))
    tag(doc, "{%p endif %}")

    heading(doc, "Diarieposter")
    tag(doc, "{%p if entries %}")
    loop_table(
        doc,
        ["Diarienummer", "Datum", "Riktning", "Handlingstyp", "Beskrivning", "Avsändare/mottagare", "Sekretess"],
        [3.6, 2.2, 2.3, 3.2, 7.0, 4.2, 3.2],
        loop="e in entries",
        cells=[("{{ e.reference }}", "b"), "{{ e.entry_date|datum }}", "{{ e.direction }}", "{{ e.document_type }}",
               ["{{ e.description }}", "{% if e.case_title %} ({{ e.case_title }}){% endif %}"], "{{ e.counterpart }}",
               "{% if e.confidential %}Sekretess enligt {{ e.osl_reference }}{% else %}–{% endif %}"],
        nowrap=(0, 1),
    )
    tag(doc, "{%p else %}")
    para(doc, "Inga handlingar diarieförda under perioden.")
    tag(doc, "{%p endif %}")
    return doc


BUILDERS: dict[str, Callable[[], DocumentObject]] = {
    "iop_avtal.docx": build_agreement,
    "beslut.docx": build_decision,
    "dialogmote_protokoll.docx": build_minutes,
    "uppfoljning_begaran.docx": build_followup_request,
    "uppfoljningsrapport.docx": build_followup_summary,
}


# Reports of the registrar's (not a case's documents: no diarienummer of their own), in their own directory so that
# the case documents' set stays what the document tests check; tests/diarium/test_report.py checks these are fresh.
REPORT_DIR = "rapporter"
REPORT_BUILDERS: dict[str, Callable[[], DocumentObject]] = {
    "diarierapport.docx": build_diary_report,
}


def build_all(out_dir: Path = TEMPLATES_DIR) -> dict[str, Path]:
    written = {}
    for name, builder in BUILDERS.items():
        path = out_dir / name
        save_reproducible(builder(), path)
        written[name] = path
    (out_dir / REPORT_DIR).mkdir(parents=True, exist_ok=True)
    for name, builder in REPORT_BUILDERS.items():
        path = out_dir / REPORT_DIR / name
        save_reproducible(builder(), path)
        written[f"{REPORT_DIR}/{name}"] = path
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TEMPLATES_DIR,
                        help="output directory (default: templates/)")
    args = parser.parse_args(argv)
    for name, path in build_all(args.out).items():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
