"""In Chromium, as each role would (issue 22): the officer is notified of a decision on their request, of the
organisation's completion and of a submitted report, and chooses in-app only; the case history lists assignment,
pause, resumption, extension and signatures; a signature dated before the agreement was drawn up is refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from test_web_accessibility import AUDIT

from tests.fixtures.smtp import smtp_server, smtp_server_session  # noqa: F401

TODAY = datetime.now(ZoneInfo("Europe/Stockholm")).date()


def _db(server):  # noqa: ANN001, ANN202
    from service.db import make_engine

    return make_engine(server.db_url)


def _prepare(server, world, build):  # noqa: ANN001, ANN202
    """Run `build(session, users_by_email, org)` against the live server's database and return what it returns."""
    from service.auth.models import User
    from service.organisations.models import Organisation

    engine = _db(server)
    try:
        with Session(engine, expire_on_commit=False) as s:
            users = {u.email: u for u in s.scalars(select(User))}
            org = s.scalar(select(Organisation).where(Organisation.name == world.org_name))
            out = build(s, users, org)
            s.commit()
            return out
    finally:
        engine.dispose()


def _run_outbox(server, smtp) -> None:  # noqa: ANN001
    """What the outbox flow does after commit: the handlers run, notifications are written, e-mail goes to real SMTP."""
    from service.config import get_settings
    from service.effects import HANDLERS
    from service.notifications.mailer import SmtpMailer
    from service.outbox.service import Context, process
    from storage.filesystem import FilesystemStore

    engine = _db(server)
    try:
        ctx = Context(settings=get_settings(), mailer=SmtpMailer(smtp.url, "iop@kommun.example.se"),
                      store_factory=lambda: FilesystemStore(server.workdir / "objects"), handlers=HANDLERS)
        for _ in range(3):
            process(sessionmaker(bind=engine, expire_on_commit=False), ctx)
    finally:
        engine.dispose()


def _notice_card(page: Page, text: str):  # noqa: ANN202
    page.goto("/notiser")
    return page.locator(".notifications li", has_text=text)


def test_officer_is_notified_of_the_decision_the_completion_and_the_report(login, world, server, smtp_server) -> None:  # noqa: ANN001, F811
    import factories

    from service.cases.stages import Stage
    from service.followup.models import FollowUpReport

    def build(s, users, org):  # noqa: ANN001, ANN202
        officer = users[world.officer]
        dep_id = officer.department_id
        from service.departments.models import Department

        dep = s.get(Department, dep_id)
        c = factories.case(s, org, dep, stage=Stage.IDENTIFY_NEED, officer_id=officer.id, title="Språkcafé i Ekby")
        f = factories.case(s, org, dep, stage=Stage.FOLLOW_UP, officer_id=officer.id, title="Läxhjälp i Ekby")
        s.flush()
        r = FollowUpReport(case_id=f.id, period_start=TODAY - timedelta(days=200), period_end=TODAY - timedelta(days=1),
                           due_on=TODAY + timedelta(days=20), is_final=True)
        s.add(r)
        return c.id, f.id

    case_id, followup_id = _prepare(server, world, build)
    officer = login(world.officer)
    officer.goto(f"/arenden/{case_id}")
    officer.get_by_role("button", name="Begär beslut").click()
    expect(officer.get_by_role("status")).to_contain_text("Begäran om beslut är skickad")

    approver = login(world.approver)
    approver.goto(f"/arenden/{case_id}/beslut")
    approver.get_by_label("Begär komplettering").check()
    approver.get_by_label("Motivering").fill("Beskriv hur ni når nyanlända.")
    approver.get_by_role("button", name="Registrera beslut").click()
    expect(approver.get_by_role("status")).to_contain_text("Beslutet är registrerat")
    _run_outbox(server, smtp_server)

    card = _notice_card(officer, "Språkcafé i Ekby").filter(has_text="komplettering begärd")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Beskriv hur ni når nyanlända.")
    expect(card).to_contain_text("Bo Beslutsfattare")

    member = login(world.member)
    member.goto(f"/arenden/{case_id}")
    expect(member.locator(".notice--warning")).to_contain_text("Begärd av Bo Beslutsfattare")
    member.get_by_role("button", name="Skicka in kompletteringen").click()
    expect(member.get_by_role("status")).to_contain_text("Kompletteringen är inskickad")
    member.goto(f"/arenden/{followup_id}")
    member.get_by_label("Vad har ni gjort under perioden?").fill("Läxhjälp tre kvällar i veckan.")
    member.get_by_label("Antal deltagare som nåtts").fill("48")
    member.get_by_label("Använda medel från kommunen (kronor)").fill("190 000")
    member.get_by_role("button", name="Skicka in rapporten").click()
    expect(member.get_by_role("status")).to_be_visible()
    _run_outbox(server, smtp_server)

    expect(_notice_card(officer, "Språkcafé i Ekby").filter(has_text="Komplettering inskickad")).to_have_count(1)
    report = _notice_card(officer, "Läxhjälp i Ekby").filter(has_text="Slutrapport inlämnad")
    expect(report).to_have_count(1)
    expect(report).to_contain_text("Maja Medlem")
    assert any(str(m.message["To"]) == world.officer and "Slutrapport inlämnad" in str(m.message["Subject"]) for m in smtp_server.messages)

    # In-app only from now on, chosen on the officer's own settings page.
    officer.get_by_role("link", name="Välj om de också ska komma med e-post").click()
    officer.get_by_label("Bara i systemet").check()
    officer.get_by_role("button", name="Spara").click()
    expect(officer.get_by_role("status")).to_contain_text("inställningar för notiser är sparade")
    expect(officer.get_by_label("Bara i systemet")).to_be_checked()
    assert officer.evaluate(AUDIT) == []
    officer.goto("/notiser")
    assert officer.evaluate(AUDIT) == []


def test_history_lists_assignment_pause_extension_and_signatures(login, world, server) -> None:  # noqa: ANN001
    import factories
    from gates_setup import add_document, terms_payload

    from service.agreements.models import Agreement
    from service.agreements.schemas import AgreementTerms
    from service.cases.stages import Stage
    from service.config import get_settings
    from service.deadlines import rules
    from service.deadlines.models import DeadlineKind
    from service.departments.models import Department

    def build(s, users, org):  # noqa: ANN001, ANN202
        dep = s.get(Department, users[world.officer].department_id)
        c = factories.case(s, org, dep, stage=Stage.AGREEMENT, title="Mötesplats i Västby")
        terms = AgreementTerms.model_validate(terms_payload(org.name, org.orgnr))
        s.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                        period_start=terms.period_start, period_end=terms.period_end))
        s.flush()
        add_document(s, c, DocumentKind.AGREEMENT)
        rules.create(s, c, DeadlineKind.AGREEMENT_SIGNATURE, get_settings())
        return c.id

    from service.documents.models import DocumentKind

    case_id = _prepare(server, world, build)
    officer = login(world.officer)
    officer.goto(f"/arenden/{case_id}")
    officer.get_by_role("button", name="Tilldela").click()
    expect(officer.get_by_role("status")).to_contain_text("Handläggare är tilldelad")

    officer.get_by_text("Pausa ärendet").click()
    officer.get_by_label("Varför pausas ärendet?").fill("Väntar på styrelsens protokoll")
    officer.get_by_role("button", name="Pausa", exact=True).click()
    expect(officer.get_by_role("status")).to_contain_text("pausat")
    officer.get_by_role("button", name="Återuppta ärendet").click()
    expect(officer.get_by_role("status")).to_contain_text("återupptaget")
    officer.get_by_text("Förläng fristen").first.click()
    officer.get_by_label("Antal arbetsdagar").first.fill("3")
    officer.get_by_label("Skäl till förlängningen").first.fill("Semester hos föreningen")
    officer.get_by_role("button", name="Förläng").first.click()
    expect(officer.get_by_role("status")).to_contain_text("förlängd")

    form = officer.locator(f"form[action='/arenden/{case_id}/underskrift']")
    officer.locator("summary", has_text="Registrera underskrift").click()
    form.get_by_label("Kommunen").check()
    form.get_by_label("Namn").fill("Eva Ek")
    form.get_by_label("Roll").fill("Förvaltningschef")
    form.get_by_label("Datum för underskrift").fill("2020-01-01")
    form.get_by_role("button", name="Registrera underskrift").click()
    expect(officer.locator("#signature-signed_on-error")).to_contain_text("upprättades")
    form = officer.locator(f"form[action='/arenden/{case_id}/underskrift']")
    form.get_by_label("Datum för underskrift").fill((TODAY + timedelta(days=3)).isoformat())
    form.get_by_role("button", name="Registrera underskrift").click()
    expect(officer.locator("#signature-signed_on-error")).to_contain_text("framtiden")
    form = officer.locator(f"form[action='/arenden/{case_id}/underskrift']")
    form.get_by_label("Datum för underskrift").fill(TODAY.isoformat())
    form.get_by_role("button", name="Registrera underskrift").click()
    expect(officer.get_by_role("status")).to_contain_text("Underskriften är registrerad")

    assert officer.evaluate(AUDIT) == []  # with the correction and removal forms of the signature
    history = officer.locator("#historik")
    for text in ("Handläggare tilldelad", "Ärendet pausades", "Ärendet återupptogs", "Tidsfrist förlängd",
                 "Underskrift registrerad för kommunen/regionen", f"Undertecknat {TODAY.isoformat()}"):
        expect(history).to_contain_text(text)
    expect(history).not_to_contain_text("styrelsens protokoll")  # free text stays out of the history

    member = login(world.member)
    member.goto(f"/arenden/{case_id}")
    expect(member.locator("#historik")).to_contain_text("Ärendet pausades")
    expect(member.locator("#historik")).not_to_contain_text("Tidsfrist förlängd")
