"""Small things from issue 22: amounts with thousands separators wherever the web shows them, waits in minutes, a
mistyped address gives browsers the Swedish error page (the API keeps problem+json)."""

from __future__ import annotations

from datetime import timedelta

from factories import World, case
from sqlalchemy.orm import Session
from test_web_forms import Browserless, web  # noqa: F401

from service.auth.ratelimit import LoginLimiter
from service.cases.stages import Stage
from service.db import utcnow
from service.deadlines.models import Deadline, DeadlineKind
from service.errors import AppError
from service.web.labels import amounts_in_text

NB = "\u00a0"


def test_amounts_in_service_texts_get_separators() -> None:
    assert amounts_in_text("Utbetalning 1: 200000 kr") == f"Utbetalning 1: 200{NB}000{NB}kr"
    assert amounts_in_text("Beloppet 400,000 kr överstiger (1,000,000 kr)") == f"Beloppet 400{NB}000{NB}kr överstiger (1{NB}000{NB}000{NB}kr)"
    assert amounts_in_text("summerar till 400001 kr men är 400 000 kr") == f"summerar till 400{NB}001{NB}kr men är 400{NB}000{NB}kr"
    assert amounts_in_text("12 kronor, år 2027, 950 kr") == f"12 kronor, år 2027, 950{NB}kr"


def test_instalment_deadline_on_the_case_page_shows_the_amount_grouped(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id)
    due = utcnow() + timedelta(days=20)
    db.add(Deadline(case_id=c.id, kind=DeadlineKind.PAYMENT_INSTALMENT, due_at=due, original_due_at=due, label="Utbetalning 1: 200000 kr"))
    db.commit()
    web.login(w.officer)
    page = web.get(f"/arenden/{c.id}").text
    assert "200000 kr" not in page and f"Utbetalning 1: 200{NB}000{NB}kr" in page


def test_throttling_says_minutes() -> None:
    now = [1000.0]
    limiter = LoginLimiter(2, 900, clock=lambda: now[0])
    for _ in range(2):
        limiter.failed("a@example.se", "1.2.3.4")
    now[0] += 5
    try:
        limiter.check("a@example.se", "1.2.3.4")
    except AppError as exc:
        assert "försök igen om 15 minuter" in exc.detail and "retry in 15 minutes" in exc.detail and "sekunder" not in exc.detail
        assert exc.headers["Retry-After"] == "895"
    else:
        raise AssertionError("not throttled")
    now[0] += 850
    try:
        limiter.check("a@example.se", "1.2.3.4")
    except AppError as exc:
        assert "om 45 sekunder" in exc.detail
    else:
        raise AssertionError("not throttled")


def test_a_mistyped_address_shows_the_swedish_page_to_browsers(web: Browserless) -> None:  # noqa: F811
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = web.client.get("/arendn/12", headers=html)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Sidan finns inte" in r.text and "Kontrollera adressen" in r.text and '"type"' not in r.text
    assert "Content-Security-Policy" in r.headers
    for path, headers in (("/api/v1/arendn", html), ("/arendn/12", {"Accept": "application/json"})):
        r = web.client.get(path, headers=headers)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json"), path


def test_a_submitted_reports_amount_is_grouped_when_completed(web: Browserless, db: Session) -> None:  # noqa: F811
    from service.followup.models import FollowUpReport

    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id)
    today = utcnow().date()
    db.add(FollowUpReport(case_id=c.id, period_start=today - timedelta(days=100), period_end=today, due_on=today + timedelta(days=10),
                          content={"activities_done": "Träffar", "participants_reached": 40, "money_used_sek": 190000, "deviations": ""},
                          submitted_at=utcnow(), submitted_by_id=w.member.id))
    db.commit()
    web.login(w.member)
    page = web.get(f"/arenden/{c.id}").text
    assert 'value="190 000"' in page and f"190{NB}000{NB}kr" in page and "190000" not in page


def test_list_length_messages_count_rows_in_swedish() -> None:
    """Issue 22: "Minst 1 rad(er)" read as a template; one row is "en rad", more are "rader"."""
    from service.web.forms import translate

    assert translate({"type": "too_short", "ctx": {"min_length": 1}}) == "Minst en rad krävs."
    assert translate({"type": "too_short", "ctx": {"min_length": 2}}) == "Minst 2 rader krävs."
    assert translate({"type": "too_long", "ctx": {"max_length": 12}}) == "Högst 12 rader."
