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
