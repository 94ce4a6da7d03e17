"""Who is reminded: the organisation for what it must do itself (sign, report), the department for the rest."""

from __future__ import annotations

from factories import World, case, user

from service.auth.models import Role
from service.cases.stages import Stage
from service.config import get_settings
from service.deadlines import rules
from service.deadlines.models import DeadlineKind
from service.deadlines.recipients import recipients


def test_the_signature_deadline_reminds_the_organisation_and_the_officer(db) -> None:
    """Issue 19: only the officer was reminded that the agreement waits for the organisation's signature."""
    w = World(db)
    second = user(db, Role.ORG_MEMBER, organisation=w.org)
    gone = user(db, Role.ORG_MEMBER, organisation=w.org, is_active=False)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    db.refresh(c)
    d = rules.create(db, c, DeadlineKind.AGREEMENT_SIGNATURE, get_settings())
    got = {u.id for u in recipients(db, d, c)}
    assert got == {w.member.id, second.id, w.officer.id} and gone.id not in got
    dialogue = rules.create(db, c, DeadlineKind.DIALOGUE, get_settings())
    assert {u.id for u in recipients(db, dialogue, c)} == {w.officer.id}  # the department's own deadline


def test_reminders_follow_each_persons_notification_setting(db) -> None:
    """Every reminder is an in-app card; the e-mail only for those who did not choose in-app only."""
    from datetime import timedelta

    from sqlalchemy import select

    from service.db import utcnow
    from service.deadlines.models import Reminder
    from service.deadlines.sweep import plan_reminders
    from service.notifications.models import Notification
    from service.notifications.service import set_email

    w = World(db)
    quiet = user(db, Role.ORG_MEMBER, organisation=w.org)
    set_email(db, quiet, False)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    db.refresh(c)
    d = rules.create(db, c, DeadlineKind.AGREEMENT_SIGNATURE, get_settings(), due_at=utcnow() + timedelta(days=2))
    assert plan_reminders(db, get_settings(), now=utcnow() + timedelta(days=1)) == 2
    mailed = set(db.scalars(select(Reminder.recipient_user_id).where(Reminder.deadline_id == d.id)))
    assert mailed == {w.member.id, w.officer.id}
    cards = {n.user_id: n for n in db.scalars(select(Notification).where(Notification.case_id == c.id, Notification.kind == "reminder"))}
    assert set(cards) == {w.member.id, w.officer.id, quiet.id}
    assert c.diarienummer in cards[quiet.id].title and "Underskrift av avtal" in cards[quiet.id].title
    # A second sweep in the same window neither mails nor notifies again.
    plan_reminders(db, get_settings(), now=utcnow() + timedelta(days=1, minutes=1))
    assert db.scalar(select(Reminder.id).where(Reminder.deadline_id == d.id).offset(2)) is None
    assert len(list(db.scalars(select(Notification.id).where(Notification.case_id == c.id, Notification.kind == "reminder")))) == 3
