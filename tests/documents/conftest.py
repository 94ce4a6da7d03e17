"""Realistic render contexts for the document tests (no database, no storage)."""

from __future__ import annotations

import sys
from datetime import date, time
from pathlib import Path
from types import SimpleNamespace

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from service.documents.contexts import (  # noqa: E402  (after the path fix above)
    FollowUpSummaryContext,
    IndicatorLine,
    IndicatorResultLine,
    AgreementContext,
    Authority,
    CaseRef,
    Contact,
    Contribution,
    Court,
    DecisionContext,
    DecisionMaker,
    DialogueMinutesContext,
    FollowUpRequestContext,
    Instalment,
    NextStep,
    Organisation,
    Participant,
    Party,
    ReportDue,
    Signatory,
)

AUTHORITY = Authority(
    municipality="Exempelby kommun",
    department="Socialförvaltningen",
    committee="Socialnämnden",
    postal_address="Box 100, 123 45 Exempelby",
    email="socialforvaltningen@exempelby.se",
    phone="0123-45 67 00",
    website="www.exempelby.se",
)
CASE = CaseRef(diarienummer="SOC 2026/0042", title="Läxhjälp och fritid för barn i Norrby")
OFFICER = Contact(
    name="Sara Lindqvist",
    title="Handläggare",
    email="sara.lindqvist@exempelby.se",
    phone="0123-45 67 12",
)
ORGANISATION = Organisation(
    name="Föreningen Gemenskap i Norrby",
    orgnr="802000-1234",
    address="Norrbyvägen 12\n123 50 Exempelby",
    contact=Contact(name="Ali Hassan", title="Ordförande", email="ali@gemenskap.example"),
)


INDICATOR = IndicatorLine(goal="minst 120 barn deltar i läxhjälpen varje termin", name="Barn i läxhjälpen", unit="antal",
                          baseline="85 st", target="120 st", how_measured="Närvarolistor per kväll", periods="alla rapporter")


def agreement_context(**overrides) -> AgreementContext:
    data = dict(
        authority=AUTHORITY,
        case=CASE,
        document_date=date(2026, 11, 23),
        public_party=Party(
            name="Exempelby kommun, Socialnämnden",
            orgnr="212000-0001",
            address="Box 100, 123 45 Exempelby",
            signatories=[Signatory(name="Karin Berg", role="Förvaltningschef")],
        ),
        organisation=Party(
            name="Föreningen Gemenskap i Norrby",
            orgnr="802000-1234",
            address="Norrbyvägen 12, 123 50 Exempelby",
            signatories=[
                Signatory(name="Ali Hassan", role="Ordförande", place="Exempelby",
                          signed_on=date(2026, 11, 30)),
                Signatory(name="Lina Ek", role="Kassör"),
            ],
        ),
        background=(
            "Barn och unga i Norrby har enligt kommunens välfärdsbokslut lägre "
            "måluppfyllelse i skolan och färre meningsfulla fritidsaktiviteter än i "
            "kommunen i övrigt.\n\nFöreningen har sedan 2019 drivit läxhjälp med ideella "
            "krafter och har ett stort förtroende bland familjerna i området."
        ),
        purpose="Att stärka barns skolresultat och ge fler barn en trygg och aktiv fritid.",
        goals=[
            "minst 120 barn deltar i läxhjälpen varje termin",
            "minst 40 ideella läxhjälpare är engagerade",
            "föräldrar i området erbjuds föräldraträffar fyra gånger per år",
        ],
        indicators=[INDICATOR],
        target_group="Barn och unga 8–16 år i Norrby och deras föräldrar.",
        activities=(
            "Läxhjälp tre kvällar i veckan, lovaktiviteter under sport-, påsk- och "
            "sommarlov samt föräldraträffar i samarbete med skolan."
        ),
        contributions=[
            Contribution(
                party="Exempelby kommun", kind="Ekonomiskt bidrag",
                description="Bidrag till lokalhyra, material och samordnare",
                amount=1_250_000,
            ),
            Contribution(
                party="Exempelby kommun", kind="Lokaler",
                description="Tillgång till Norrbyskolans bibliotek tre kvällar i veckan",
                extent="3 kvällar per vecka",
            ),
            Contribution(
                party="Föreningen Gemenskap i Norrby", kind="Ideellt arbete",
                description="Läxhjälpare och ledare vid lovaktiviteter",
                amount=380_000, extent="1 900 timmar per år",
            ),
            Contribution(
                party="Föreningen Gemenskap i Norrby", kind="Egna medel",
                description="Medlemsavgifter och insamlade medel",
                amount=45_500,
            ),
        ],
        funding_amount=1_250_000,
        instalments=[
            Instalment(due_date=date(2027, 1, 15), amount=500_000),
            Instalment(due_date=date(2027, 7, 15), amount=450_000,
                       note="Efter godkänd delrapport"),
            Instalment(due_date=date(2028, 1, 17), amount=300_000,
                       note="Efter godkänd delrapport"),
        ],
        payment_terms="Utbetalning sker till föreningens bankgiro 123-4567.",
        state_aid_basis=(
            "Stödet lämnas som stöd av mindre betydelse (de minimis) enligt "
            "kommissionens förordning (EU) 2023/2831."
        ),
        period_start=date(2027, 1, 1),
        period_end=date(2028, 12, 31),
        extension_terms="Kan förlängas med ett år i taget, högst två gånger.",
        notice_period_months=6,
        steering_group="Förvaltningschef, enhetschef och föreningens ordförande; två möten per år.",
        working_group="Handläggare, samordnare och två ideella representanter; möte varje månad.",
        reports=[
            ReportDue(due_date=date(2027, 6, 30), description="Delrapport år 1",
                      period_start=date(2027, 1, 1), period_end=date(2027, 5, 31)),
            ReportDue(due_date=date(2028, 1, 31), description="Verksamhetsrapport 2027",
                      period_start=date(2027, 1, 1), period_end=date(2027, 12, 31)),
            ReportDue(due_date=date(2029, 2, 28), description="Slutrapport",
                      period_start=date(2027, 1, 1), period_end=date(2028, 12, 31)),
        ],
    )
    data.update(overrides)
    return AgreementContext(**data)


def decision_context(**overrides) -> DecisionContext:
    data = dict(
        authority=AUTHORITY,
        case=CASE,
        document_date=date(2026, 11, 23),
        decision_date=date(2026, 11, 23),
        decision_maker=DecisionMaker(
            name="Karin Berg", title="Förvaltningschef",
            delegation_reference="Socialnämndens delegationsordning, punkt 3.4",
        ),
        organisation=ORGANISATION,
        outcome="approve",
        motivation=(
            "Behovet är gemensamt identifierat, båda parter bidrar och verksamheten bedrivs "
            "på föreningens eget initiativ. Stödet ryms inom de minimis."
        ),
        from_stage="dialogue",
        to_stage="agreement",
        amount=1_250_000,
        appeal_court=Court(
            name="Förvaltningsrätten i Exempelstad",
            address="Box 1000, 100 00 Exempelstad",
            email="forvaltningsratten.exempelstad@dom.se",
        ),
        notice_board_url="www.exempelby.se/anslagstavla",
        officer=OFFICER,
    )
    data.update(overrides)
    return DecisionContext(**data)


def minutes_context(**overrides) -> DialogueMinutesContext:
    data = dict(
        authority=AUTHORITY,
        case=CASE,
        document_date=date(2026, 10, 2),
        organisation=ORGANISATION,
        meeting_date=date(2026, 10, 1),
        start_time=time(13, 0),
        end_time=time(15, 30),
        place="Stadshuset, sal Norrbyn",
        participants=[
            Participant(name="Sara Lindqvist", organisation="Exempelby kommun",
                        role="Handläggare"),
            Participant(name="Per Ek", organisation="Exempelby kommun", role="Enhetschef"),
            Participant(name="Ali Hassan", organisation="Föreningen Gemenskap i Norrby",
                        role="Ordförande"),
            Participant(name="Lina Ek", organisation="Föreningen Gemenskap i Norrby",
                        role="Samordnare"),
        ],
        agenda=["Behovsbild", "Parternas bidrag", "Nästa steg"],
        notes="Parterna gick igenom behovsbilden.\nFöreningen presenterade sin verksamhet.",
        next_steps=[
            NextStep(description="Ta fram utkast till överenskommelse",
                     responsible="Sara Lindqvist", due_date=date(2026, 10, 20)),
            NextStep(description="Skicka budget för 2027", responsible="Ali Hassan",
                     due_date=date(2026, 10, 15)),
        ],
        next_meeting="2026-10-29 kl. 13.00, Stadshuset",
        recorder="Sara Lindqvist",
        adjuster="Ali Hassan",
    )
    data.update(overrides)
    return DialogueMinutesContext(**data)


def followup_context(**overrides) -> FollowUpRequestContext:
    data = dict(
        authority=AUTHORITY,
        case=CASE,
        document_date=date(2027, 5, 3),
        organisation=ORGANISATION,
        period_start=date(2027, 1, 1),
        period_end=date(2027, 5, 31),
        due_date=date(2027, 6, 30),
        funding_for_period=500_000,
        agreement_date=date(2026, 11, 30),
        additional_requirements=["Kopia av protokoll från föreningens årsmöte"],
        submission_url="https://iop.exempelby.se",
        submission_email="socialforvaltningen@exempelby.se",
        officer=OFFICER,
        indicators=[INDICATOR],
    )
    data.update(overrides)
    return FollowUpRequestContext(**data)


def summary_context(**overrides) -> FollowUpSummaryContext:
    data = dict(
        authority=AUTHORITY, case=CASE, document_date=date(2027, 7, 10), organisation=ORGANISATION,
        period_start=date(2027, 1, 1), period_end=date(2027, 5, 31), due_date=date(2027, 6, 30), submitted_on=date(2027, 6, 20),
        activities_done="Läxhjälp 70 kvällar, två lovveckor.", participants_reached=131, money_used=480_000,
        deviations="En lovvecka ställdes in.",
        results=[IndicatorResultLine(goal=INDICATOR.goal, name=INDICATOR.name, target=INDICATOR.target, achieved="131 st",
                                     comment="Närvarolistor", rating="Uppnått", rating_comment="Över målvärdet")],
        assessment="Godkänd", assessment_comment="Väl genomfört.", assessed_on=date(2027, 7, 1), officer=OFFICER,
    )
    data.update(overrides)
    return FollowUpSummaryContext(**data)


@pytest.fixture
def samples() -> SimpleNamespace:
    """Factories for realistic contexts; keyword arguments override fields."""
    return SimpleNamespace(
        authority=AUTHORITY,
        agreement=agreement_context,
        decision=decision_context,
        minutes=minutes_context,
        followup=followup_context,
        summary=summary_context,
        by_template={
            "iop_avtal.docx": agreement_context,
            "beslut.docx": decision_context,
            "dialogmote_protokoll.docx": minutes_context,
            "uppfoljning_begaran.docx": followup_context,
            "uppfoljningsrapport.docx": summary_context,
        },
    )


@pytest.fixture
def agreement() -> AgreementContext:
    return agreement_context()


@pytest.fixture
def decision() -> DecisionContext:
    return decision_context()


@pytest.fixture
def minutes() -> DialogueMinutesContext:
    return minutes_context()


@pytest.fixture
def followup() -> FollowUpRequestContext:
    return followup_context()


# --------------------------------------------------------------------------- object stores wired into the app


def _wired_store(request: pytest.FixtureRequest, app, tmp_path: Path, *, object_lock: bool):  # noqa: ANN001, ANN202
    """The parametrised store (local files or a real SeaweedFS bucket), used by the app's endpoints."""
    from service.documents import service as documents
    from storage.filesystem import FilesystemStore
    from storage.s3 import S3Store

    if request.param == "filesystem":
        s = FilesystemStore(tmp_path / "objects")
    else:
        server = request.getfixturevalue("seaweed_server")
        s = S3Store(server.endpoint, server.access_key, server.secret_key, request.getfixturevalue("s3_bucket"), object_lock=object_lock)
    app.dependency_overrides[documents.get_store] = lambda: s
    return s


@pytest.fixture(params=["filesystem", "s3"])
def store(request, app, tmp_path):  # noqa: ANN001, ANN201
    """The app's object store: local files or a real SeaweedFS S3 bucket (versioned, no object lock)."""
    from service.documents import service as documents

    yield _wired_store(request, app, tmp_path, object_lock=False)
    app.dependency_overrides.pop(documents.get_store, None)


@pytest.fixture(params=["filesystem", "s3"])
def locked_store(request, app, tmp_path):  # noqa: ANN001, ANN201
    """The app's object store with retention enforced (S3: a bucket created with object lock)."""
    from service.documents import service as documents

    yield _wired_store(request, app, tmp_path, object_lock=True)
    app.dependency_overrides.pop(documents.get_store, None)
