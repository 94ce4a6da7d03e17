"""Deadlines on the case page: pause, resume, extend by civil servants; the organisation sees its own deadlines; notices."""

from __future__ import annotations

from datetime import timedelta

from factories import World, case
from sqlalchemy.orm import Session

from service.audit.models import AuditEvent
from service.cases.models import Case
from service.cases.stages import Stage
from service.config import get_settings
from service.db import utcnow
from service.deadlines import rules as deadlines
from service.deadlines.calendar import calendar_for
from service.deadlines.models import Deadline, DeadlineKind, DeadlineStatus
from service.notifications.models import Notification
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)


def test_officer_pauses_resumes_and_extends_on_the_case_page(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    d = deadlines.create(db, c, DeadlineKind.DIALOGUE, get_settings(), due_at=utcnow() + timedelta(days=30))
    base = f"/arenden/{c.id}"
    officer = Browserless(web.client).login(w.officer)
    page = officer.get(base).text
    assert f'action="{base}/pausa"' in page and f'action="{base}/frister/{d.id}/forlang"' in page

    r = officer.post(f"{base}/pausa", {"reason": ""}, expect=422)  # a reason is required, shown at the field
    assert 'id="suspend-reason-error"' in r.text
    officer.post(f"{base}/pausa", {"reason": "Väntar på budget från föreningen"})
    db.expire_all()
    assert db.get(Case, c.id).suspended and db.get(Deadline, d.id).status == DeadlineStatus.SUSPENDED
    page = officer.get(base).text
    assert "Ärendet är vilande" in page and f'action="{base}/ateruppta"' in page and f'action="{base}/pausa"' not in page
    officer.post(f"{base}/ateruppta")
    db.expire_all()
    assert not db.get(Case, c.id).suspended and db.get(Deadline, d.id).status == DeadlineStatus.OPEN

    r = officer.post(f"{base}/frister/{d.id}/forlang", {"working_days": "abc", "reason": "Styrelsebyte"}, expect=422)
    assert 'id="extend' in r.text and "error-message" in r.text
    before = db.get(Deadline, d.id).due_at
    officer.post(f"{base}/frister/{d.id}/forlang", {"working_days": "4", "reason": "Styrelsebyte i föreningen"})
    db.expire_all()
    after = db.get(Deadline, d.id)
    cal = calendar_for("Europe/Stockholm")
    assert cal.working_days_between(cal.local_date(before), cal.local_date(after.due_at)) == 4
    assert "Förlängd: Styrelsebyte i föreningen" in officer.get(base).text
    actions = {a for (a,) in db.query(AuditEvent.action).filter(AuditEvent.case_id == c.id)}
    assert {"case.suspended", "case.resumed", "deadline.extended"} <= actions

    # The organisation sees no pause or extend controls and only the deadlines it must meet itself.
    deadlines.create(db, c, DeadlineKind.FOLLOWUP_REPORT, get_settings(), due_at=utcnow() + timedelta(days=60))
    db.flush()
    member = Browserless(web.client).login(w.member)
    page = member.get(base).text
    assert "/pausa" not in page and "/forlang" not in page
    deadline_list = page.split("Tidsfrister", 1)[1].split("</ul>", 1)[0]
    assert "Uppföljningsrapport" in deadline_list and "Dialogskedet" not in deadline_list  # the report deadline only
    member.post(f"{base}/pausa", {"reason": "Vi vill pausa"}, expect=403)


def test_notifications_page_lists_and_marks_read(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    db.add_all([Notification(user_id=w.member.id, case_id=c.id, kind="decision_made", title="Beslut i ärendet"),
                Notification(user_id=w.officer.id, case_id=c.id, kind="x", title="Inte din notis")])
    db.flush()
    member = Browserless(web.client).login(w.member)
    page = member.get("/notiser").text
    assert "Beslut i ärendet" in page and "Inte din notis" not in page and f'href="/arenden/{c.id}"' in page
    assert 'href="/notiser"' in page  # in the menu
    assert '<span class="badge">1<span class="visually-hidden"> olästa</span>' in member.get("/start").text
    member.post("/notiser/lasta")
    assert 'class="badge"' not in member.get("/start").text
    db.expire_all()
    assert db.query(Notification).filter_by(user_id=w.member.id, read_at=None).count() == 0
    assert db.query(Notification).filter_by(user_id=w.officer.id, read_at=None).count() == 1
