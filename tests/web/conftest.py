"""Browser-test fixtures: the real app under uvicorn and headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_server import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402

REQUIRE = os.environ.get("IOP_TEST_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str) -> None:
    """Skip where no browser is installed, but fail when the run demands browser tests (CI)."""
    if REQUIRE:
        pytest.fail(f"browser tests required (IOP_TEST_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

PASSWORD = "hemligt-lösen-123"  # tests/factories.PASSWORD


@dataclass
class WebWorld:
    """Accounts and one prepared case in the server's database."""

    prefix: str
    department: str
    org_name: str
    member: str
    other_member: str
    new_member: str
    officer: str
    approver: str
    approver2: str
    registrar: str
    admin: str
    review_case_id: int
    other_org_case_id: int


def _populate(holder: dict) -> Callable[[Session], None]:
    def populate(db: Session) -> None:
        import factories

        from service.auth.models import Role
        from service.cases.models import Case
        from service.cases.stages import Stage
        from service.db import utcnow
        from service.reviews.models import Review, ReviewStatus

        dep = factories.department(db, name="Socialförvaltningen", diarie_prefix="WEB", municipality_orgnr="212000-0142")
        org = factories.organisation(db, name="Föreningen Gemenskap Webb")
        other = factories.organisation(db, name="Annan förening")
        member = factories.user(db, Role.ORG_MEMBER, organisation=org, full_name="Maja Medlem")
        other_member = factories.user(db, Role.ORG_MEMBER, organisation=other)
        new_member = factories.user(db, Role.ORG_MEMBER, full_name="Nils Ny")
        officer = factories.user(db, Role.OFFICER, department=dep, full_name="Anna Handläggare", title="Handläggare")
        approver = factories.user(db, Role.APPROVER, department=dep, full_name="Bo Beslutsfattare", title="Enhetschef",
                                  delegated_limit_sek=1_000_000)
        approver2 = factories.user(db, Role.APPROVER, department=dep, full_name="Eva Förvaltningschef", delegated_limit_sek=5_000_000)
        registrar = factories.user(db, Role.REGISTRAR)
        admin = factories.user(db, Role.ADMIN, full_name="Ada Systemförvaltare")
        # A case already waiting for a decision, for pages that need one.
        c: Case = factories.case(db, org, dep, stage=Stage.IDENTIFY_NEED, officer_id=officer.id, title="Träffpunkt i Söderby",
                                 diarienummer="WEB 2025/0001")
        now = utcnow()
        db.add(Review(case_id=c.id, from_stage=Stage.IDENTIFY_NEED, to_stage=Stage.DIALOGUE, requested_by_id=officer.id,
                      requested_at=now, comment="Klart för dialog", due_at=now + timedelta(days=14), status=ReviewStatus.PENDING))
        oc = factories.case(db, other, dep, stage=Stage.IDENTIFY_NEED, title="Annan förenings ärende", diarienummer="WEB 2025/0002")
        db.flush()
        holder["world"] = WebWorld(prefix="WEB", department=dep.name, org_name=org.name, member=member.email,
                                   other_member=other_member.email, new_member=new_member.email, officer=officer.email,
                                   approver=approver.email, approver2=approver2.email, registrar=registrar.email,
                                   admin=admin.email, review_case_id=c.id, other_org_case_id=oc.id)

    return populate


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, WebWorld]]:
    """One server for the browser tests; each test creates its own cases."""
    if sync_playwright is None:
        _unavailable("the playwright package is not installed")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM}")
    holder: dict = {}
    server = LiveServer(tmp_path_factory.mktemp("web"))
    server.prepare(_populate(holder))
    server.start()
    try:
        yield server, holder["world"]
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(live: tuple[LiveServer, WebWorld]) -> Iterator[Browser]:
    """Headless Chromium from the system (Playwright's own browser downloads are never used)."""
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def server(live: tuple[LiveServer, WebWorld]) -> LiveServer:
    """The running server."""
    return live[0]


@pytest.fixture
def world(live: tuple[LiveServer, WebWorld]) -> WebWorld:
    """Accounts and prepared data."""
    return live[1]


@pytest.fixture
def new_context(browser: Browser, server: LiveServer) -> Iterator[Callable[..., BrowserContext]]:
    """Factory for isolated browser contexts (one per person); all closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**kw) -> BrowserContext:  # noqa: ANN003
        ctx = browser.new_context(base_url=server.base_url, locale="sv-SE", accept_downloads=True, **kw)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def login(new_context: Callable[..., BrowserContext]) -> Callable[..., Page]:
    """Log a person in through the login form and return their page."""

    def do(email: str, **kw) -> Page:  # noqa: ANN003
        page = new_context(**kw).new_page()
        page.goto("/logga-in")
        page.get_by_label("E-postadress").fill(email)
        page.get_by_label("Lösenord").fill(PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        expect(page.get_by_role("status")).to_contain_text("Du är inloggad")
        return page

    return do


@dataclass
class PageStates:
    """Cases in every stage a page shows differently (for the accessibility audit), in the live server's database."""

    draft_id: int
    unassigned_id: int
    completion_id: int
    dialogue_id: int
    agreement_id: int
    signed_id: int
    followup_id: int
    rejected_id: int
    decision_id: int
    unsigned_id: int


@pytest.fixture(scope="session")
def page_states(live: tuple[LiveServer, WebWorld]) -> PageStates:
    """Cases of the world's organisation in draft, submitted, completion, dialogue, agreement (without terms, with
    terms, signed by one party, awaiting the decision), follow-up and rejected."""
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    import factories
    from gates_setup import add_document, terms_payload
    from sqlalchemy import select

    from service.agreements.models import Agreement, Party, Signature
    from service.agreements.schemas import AgreementTerms
    from service.auth.models import User
    from service.cases.models import CompletionRequest
    from service.cases.stages import Stage
    from service.db import make_engine, utcnow
    from service.deadlines.models import Deadline, DeadlineKind, DeadlineStatus
    from service.departments.models import Department
    from service.dialogue.models import DialogueMeeting, SuitabilityAssessment
    from service.documents.models import DocumentKind
    from service.followup.models import FollowUpReport
    from service.messages.models import Message
    from service.notifications.models import Notification
    from service.organisations.models import Organisation
    from service.reviews.models import Review, ReviewStatus

    server, world = live
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    engine = make_engine(server.db_url)
    try:
        with Session(engine, expire_on_commit=False) as s:
            users = {u.email: u for u in s.scalars(select(User))}
            member, officer, approver = users[world.member], users[world.officer], users[world.approver]
            org = s.scalar(select(Organisation).where(Organisation.name == world.org_name))
            dep = s.get(Department, officer.department_id)
            now = utcnow()
            case = factories.case
            draft = case(s, org, dep, stage=Stage.DRAFT, title="Utkast: Sommarläger för unga", created_by_id=member.id)
            unassigned = case(s, org, dep, stage=Stage.IDENTIFY_NEED, title="Nyinkommet: Språkcafé", submitted_at=now)
            completion = case(s, org, dep, stage=Stage.IDENTIFY_NEED, officer_id=officer.id, title="Komplettering: Läxhjälp",
                              submitted_at=now, open_for_changes=True)
            s.add(CompletionRequest(case_id=completion.id, requested_by_id=officer.id, message="Beskriv målgruppen närmare."))
            dialogue = case(s, org, dep, stage=Stage.DIALOGUE, officer_id=officer.id, title="Dialog: Mötesplats i Norrby", submitted_at=now)
            s.add(DialogueMeeting(case_id=dialogue.id, held_on=today, place="Stadshuset", participants=[{"name": "Anna Handläggare"}],
                                  notes="Gemensam behovsbild.", next_steps="Utkast till avtal."))
            s.add(SuitabilityAssessment(case_id=dialogue.id, items={"ideburen": {"answer": "yes", "comment": ""}}))
            agreement = case(s, org, dep, stage=Stage.AGREEMENT, officer_id=officer.id, title="Avtal: Träffpunkt i Österby",
                             submitted_at=now)
            terms = AgreementTerms.model_validate(terms_payload(org.name, org.orgnr))
            s.add(Agreement(case_id=agreement.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                            period_start=terms.period_start, period_end=terms.period_end))
            unsigned = case(s, org, dep, stage=Stage.AGREEMENT, officer_id=officer.id, title="Avtal saknas: Väntjänst i Mellanby",
                            submitted_at=now)
            signed = case(s, org, dep, stage=Stage.AGREEMENT, officer_id=officer.id, title="Undertecknas: Fritidsgård i Västby",
                          submitted_at=now)
            s.add(Agreement(case_id=signed.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                            period_start=terms.period_start, period_end=terms.period_end))
            s.flush()
            add_document(s, signed, DocumentKind.AGREEMENT)
            s.add(Signature(case_id=signed.id, party=Party.PUBLIC, name="Eva Ek", role="Förvaltningschef", signed_on=today))
            # Signed by both parties and waiting for the approver: the decision page shows the signatures.
            decision = case(s, org, dep, stage=Stage.AGREEMENT, officer_id=officer.id, title="Beslut: Kvinnojour i Söderby",
                            submitted_at=now)
            s.add(Agreement(case_id=decision.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                            period_start=terms.period_start, period_end=terms.period_end))
            s.flush()
            add_document(s, decision, DocumentKind.AGREEMENT)
            copy = add_document(s, decision, DocumentKind.SIGNED_AGREEMENT)
            s.add_all([Signature(case_id=decision.id, party=Party.PUBLIC, name="Eva Ek", role="Förvaltningschef", signed_on=today,
                                 document_id=copy.id),
                       Signature(case_id=decision.id, party=Party.ORGANISATION, name="Olle Ordförande", role="Ordförande",
                                 signed_on=today, document_id=copy.id),
                       Review(case_id=decision.id, from_stage=Stage.AGREEMENT, to_stage=Stage.FOLLOW_UP, requested_by_id=officer.id,
                              requested_at=now, comment="Avtalet är undertecknat.", due_at=now + timedelta(days=10),
                              status=ReviewStatus.PENDING)])
            followup = case(s, org, dep, stage=Stage.FOLLOW_UP, officer_id=officer.id, title="Uppföljning: Seniorgympa",
                            submitted_at=now)
            s.add(FollowUpReport(case_id=followup.id, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                                 due_on=date(2026, 8, 31), content={"activities_done": "Gympa två gånger i veckan.",
                                                                   "participants_reached": 48, "money_used_sek": 190000,
                                                                   "deviations": ""}, submitted_at=now, submitted_by_id=member.id))
            s.add(FollowUpReport(case_id=followup.id, period_start=date(2026, 7, 1), period_end=date(2026, 12, 31),
                                 due_on=date(2027, 1, 31), is_final=True))
            s.add(Review(case_id=followup.id, from_stage=Stage.AGREEMENT, to_stage=Stage.FOLLOW_UP, requested_by_id=officer.id,
                         requested_at=now, status=ReviewStatus.APPROVED, decided_by_id=approver.id, decided_at=now,
                         approver_id=approver.id, motivation="Avtalet är undertecknat av båda parter."))
            # Diary entries of the follow-up case, one confidential: the diarium pages, the registrar's correction forms and
            # the public register have rows to show.
            from service.diarium import service as diarium
            from service.diarium.models import Direction

            s.flush()
            diarium.register(s, followup, direction=Direction.INCOMING, counterpart=org.name, kind="followup_report",
                             description="Uppföljningsrapport för perioden 2026-01-01 – 2026-06-30")
            secret = diarium.register(s, followup, direction=Direction.INCOMING, counterpart=org.name, kind="attachment",
                                      description="Bilaga: intyg om deltagare")
            secret.confidential, secret.osl_reference = True, "OSL 26 kap. 1 §"
            rejected = case(s, org, dep, stage=Stage.REJECTED, officer_id=officer.id, title="Avslaget: Konstprojekt",
                            submitted_at=now, close_reason="Ligger utanför förvaltningens ansvar.")
            # An overdue deadline (the danger tag in queues and lists) and messages both ways, one internal.
            past = now - timedelta(days=3)
            s.add(Deadline(case_id=unassigned.id, kind=DeadlineKind.TRIAGE, due_at=past, original_due_at=past, status=DeadlineStatus.OPEN))
            s.add_all([Message(case_id=completion.id, author_id=member.id, body="Vi skickar kompletteringen i veckan."),
                       Message(case_id=completion.id, author_id=officer.id, body="Tack! Jag återkommer.", internal=False),
                       Message(case_id=completion.id, author_id=officer.id, body="Ring föreningen på fredag.", internal=True)])
            for who in (member, officer):
                s.add(Notification(user_id=who.id, case_id=completion.id, kind="completion_requested",
                                   title="Komplettering begärd: Läxhjälp", body="Beskriv målgruppen närmare."))
            # Gallring: a case closed in 2015 whose attachment was gallrad by an approved decision, and another's on the open list.
            from service.cases.models import StageChange
            from service.retention import service as retention
            from storage.filesystem import FilesystemStore

            registrar = users[world.registrar]
            for title in ("Avslutat: Sommarkollo 2014", "Avslutat: Julmarknad 2014"):
                old = case(s, org, dep, stage=Stage.CLOSED, officer_id=officer.id, title=title, submitted_at=now)
                s.flush()
                add_document(s, old, DocumentKind.ATTACHMENT)
                s.add(StageChange(case_id=old.id, from_stage=Stage.FOLLOW_UP, to_stage=Stage.CLOSED, at=datetime(2015, 3, 2, 10, tzinfo=UTC)))
                s.flush()
                listed, _ = retention.propose(s)
                if title.startswith("Avslutat: Sommarkollo"):
                    retention.approve(s, registrar, listed, None)
                    retention.execute(s, FilesystemStore(server.workdir / "objects"), listed)  # the row has no object: gallrad at once
            # A self-registered organisation waiting for an officer's confirmation.
            factories.organisation(s, name="Nybildade föreningen Hopp", verified_at=None)
            s.flush()
            states = PageStates(draft.id, unassigned.id, completion.id, dialogue.id, agreement.id, signed.id, followup.id, rejected.id,
                                decision.id, unsigned.id)
            s.commit()
            return states
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A real OpenID Provider (oidc-provider under node) and an app server with a staff and an organisation provider."""
    import sso_setup

    from tests.fixtures.oidc_provider import unavailable

    if (reason := unavailable()) is not None:
        _unavailable(reason)
    world = sso_setup.start(tmp_path_factory.mktemp("sso"))
    try:
        yield world
    finally:
        sso_setup.stop(world)


@pytest.fixture
def sso_context(browser: Browser, sso) -> Iterator[Callable[..., BrowserContext]]:  # noqa: ANN001
    """Browser contexts on the single sign-on server that reach only loopback addresses; all closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**kw) -> BrowserContext:  # noqa: ANN003
        ctx = browser.new_context(base_url=sso.server.base_url, locale="sv-SE", **kw)
        ctx.set_default_timeout(15_000)
        # Nothing but the app and the provider on 127.0.0.1: a page that asked for anything else would fail here.
        ctx.route(lambda url: not url.startswith("http://127.0.0.1:"), lambda route: route.abort())
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()
