"""The officer and the requester hear of every event that needs their action (in-app, and e-mail through the real outbox
and SMTP): a decision on their review (which one), the organisation's completion, a submitted follow-up report (which one);
a user who chose in-app only gets the card but no e-mail, set on the API (the web page: tests/web/test_web_notifications.py)."""

from __future__ import annotations

from datetime import date, timedelta

from factories import World, auth, case, user
from sqlalchemy import select

from service.auth.models import Role
from service.cases.stages import Stage
from service.followup.models import FollowUpReport
from service.notifications.models import Notification
from tests.auth.support import Real, body, real  # noqa: F401


def _cards(real: Real, user_id: int, case_id: int) -> list[Notification]:  # noqa: F811
    with real.factory() as s:
        return list(s.scalars(select(Notification).where(Notification.user_id == user_id, Notification.case_id == case_id)
                              .order_by(Notification.id)))


def test_decision_reaches_requester_and_officer_with_what_was_decided(real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    # A colleague prepares the case for decision; the assigned officer and the requester both act next.
    r = real.client.post(f"/api/v1/cases/{c.id}/reviews", json={"comment": "Klart"}, headers=auth(w.officer2))
    assert r.status_code == 201, r.text
    r = real.client.post(f"/api/v1/cases/{c.id}/reviews/{r.json()['id']}/decision",
                         json={"decision": "changes_requested", "motivation": "Beskriv målgruppen tydligare"}, headers=auth(w.approver))
    assert r.status_code == 200, r.text
    real.deliver()
    for staff in (w.officer, w.officer2):
        cards = [n for n in _cards(real, staff.id, c.id) if n.kind == "review_decided"]
        assert len(cards) == 1, [n.title for n in _cards(real, staff.id, c.id)]
        assert "komplettering begärd" in cards[0].title and c.diarienummer in cards[0].title
        assert "Beskriv målgruppen tydligare" in cards[0].body and w.approver.full_name in cards[0].body
        mails = [m for m in real.to(staff.email) if "Komplettering begärd" in str(m["Subject"])]
        assert len(mails) == 1 and "Beskriv målgruppen tydligare" in body(mails[0]) and c.diarienummer in str(mails[0]["Subject"])
    assert not [n for n in _cards(real, w.approver.id, c.id) if n.kind == "review_decided"]  # the decider is not told
    member_cards = [n for n in _cards(real, w.member.id, c.id) if n.kind == "decision_made"]
    assert len(member_cards) == 1 and "komplettering begärd" in member_cards[0].title

    # The organisation completes: the officer and the one who asked for the review are told, once each.
    r = real.client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member))
    assert r.status_code == 200, r.text
    real.deliver()
    for staff in (w.officer, w.officer2):
        cards = [n for n in _cards(real, staff.id, c.id) if n.kind == "changes_submitted"]
        assert len(cards) == 1 and "Komplettering inskickad" in cards[0].title and w.member.full_name in cards[0].body
        assert len([m for m in real.to(staff.email) if "Komplettering inskickad" in str(m["Subject"])]) == 1
    real.deliver()  # running again sends nothing twice
    assert len([m for m in real.to(w.officer.email) if "Komplettering inskickad" in str(m["Subject"])]) == 1


def test_submitted_report_reaches_the_officer_saying_which_report(real: Real) -> None:  # noqa: F811
    today = date.today()
    with real.factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.FOLLOW_UP, officer_id=w.officer.id)
        report = FollowUpReport(case_id=c.id, period_start=today - timedelta(days=300), period_end=today - timedelta(days=1),
                                due_on=today + timedelta(days=30), is_final=True)
        s.add(report)
        s.flush()
    r = real.client.post(f"/api/v1/cases/{c.id}/followup-reports/{report.id}/submit", headers=auth(w.member),
                         json={"activities_done": "Träffpunkt varje vecka", "participants_reached": 120, "money_used_sek": 190_000})
    assert r.status_code == 200, r.text
    real.deliver()
    cards = [n for n in _cards(real, w.officer.id, c.id) if n.kind == "followup_submitted"]
    assert len(cards) == 1 and cards[0].title.startswith("Slutrapport inlämnad") and report.period_start.isoformat() in cards[0].title
    mails = [m for m in real.to(w.officer.email) if "Slutrapport inlämnad" in str(m["Subject"])]
    assert len(mails) == 1 and w.member.full_name in body(mails[0])
    assert not [n for n in _cards(real, w.officer2.id, c.id) if n.kind == "followup_submitted"]


def test_in_app_only_gets_the_card_but_no_email(real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
        colleague = user(s, Role.ORG_MEMBER, organisation=w.org)
        c = case(s, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    assert real.client.get("/api/v1/notifications/settings", headers=auth(w.officer)).json() == {"email": True}
    r = real.client.put("/api/v1/notifications/settings", json={"email": False}, headers=auth(w.officer))
    assert r.status_code == 200 and r.json() == {"email": False}
    r = real.client.put("/api/v1/notifications/settings", json={"email": "nej"}, headers=auth(w.officer))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert real.client.get("/api/v1/notifications/settings", headers=auth(w.officer)).json() == {"email": False}
    rid = real.client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer)).json()["id"]
    real.client.post(f"/api/v1/cases/{c.id}/reviews/{rid}/decision", json={"decision": "changes_requested", "motivation": "Komplettera budgeten"},
                     headers=auth(w.approver)).raise_for_status()
    r = real.client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Vi har en fråga"}, headers=auth(w.member))
    assert r.status_code == 201, r.text
    mails = real.deliver()
    assert w.officer.email not in [str(m["To"]) for m in mails]
    kinds = {n.kind for n in _cards(real, w.officer.id, c.id)}
    assert {"review_decided", "message_posted"} <= kinds
    assert {w.member.email, colleague.email} <= {str(m["To"]) for m in mails}  # the others keep their e-mail


def test_a_message_reaches_the_officer_and_the_pending_reviews_requester(real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
    assert real.client.post(f"/api/v1/cases/{c.id}/reviews", json={}, headers=auth(w.officer2)).status_code == 201
    r = real.client.post(f"/api/v1/cases/{c.id}/messages", json={"body": "Vi har skickat budgeten"}, headers=auth(w.member))
    assert r.status_code == 201, r.text
    real.deliver()
    for staff in (w.officer, w.officer2):
        cards = [n for n in _cards(real, staff.id, c.id) if n.kind == "message_posted"]
        assert len(cards) == 1 and w.member.full_name in cards[0].body
        assert len([m for m in real.to(staff.email) if "Nytt meddelande" in str(m["Subject"])]) == 1
    assert not [n for n in _cards(real, w.approver.id, c.id) if n.kind == "message_posted"]
