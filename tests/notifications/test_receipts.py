"""Kvittens: when the organisation submits a proposal, every active member gets a receipt e-mail (real outbox, real SMTP)
with the diarienummer, and an in-app notification; only once, also when the outbox runs again."""

from __future__ import annotations

from factories import World, auth, case, user
from sqlalchemy import select

from service.auth.models import Role
from service.cases.stages import Stage
from service.notifications.models import Notification
from tests.auth.support import Real, body, real  # noqa: F401


def test_submitting_sends_a_receipt_to_the_organisations_members(real: Real) -> None:  # noqa: F811
    with real.factory() as s, s.begin():
        w = World(s)
        colleague = user(s, Role.ORG_MEMBER, organisation=w.org)
        gone = user(s, Role.ORG_MEMBER, organisation=w.org, is_active=False)
        c = case(s, w.org, w.dep, stage=Stage.DRAFT)
    r = real.client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member))
    assert r.status_code == 200, r.text
    diarienummer = r.json()["diarienummer"]
    mails = real.deliver()
    receipts = [m for m in mails if "Kvittens" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in receipts) == sorted([w.member.email, colleague.email])
    assert gone.email not in [str(m["To"]) for m in mails] and w.other_member.email not in [str(m["To"]) for m in mails]
    text = body(receipts[0])
    assert diarienummer in str(receipts[0]["Subject"]) and diarienummer in text and c.title in text and w.dep.name in text
    assert f"/arenden/{c.id}" in text
    with real.factory() as s:
        notes = s.scalars(select(Notification).where(Notification.case_id == c.id, Notification.kind == "case_submitted")).all()
    assert sorted(n.user_id for n in notes) == sorted([w.member.id, colleague.id])
    # Running the outbox again sends nothing twice.
    assert len(real.deliver()) == len(mails)


def test_a_member_who_chose_in_app_only_gets_the_receipt_in_app_but_no_email(real: Real) -> None:  # noqa: F811
    from service.notifications.service import set_email

    with real.factory() as s, s.begin():
        w = World(s)
        colleague = user(s, Role.ORG_MEMBER, organisation=w.org)
        set_email(s, w.member, False)
        c = case(s, w.org, w.dep, stage=Stage.DRAFT)
    r = real.client.post(f"/api/v1/cases/{c.id}/submit", headers=auth(w.member))
    assert r.status_code == 200, r.text
    receipts = [m for m in real.deliver() if "Kvittens" in str(m["Subject"])]
    assert [str(m["To"]) for m in receipts] == [colleague.email]
    with real.factory() as s:
        notes = s.scalars(select(Notification).where(Notification.case_id == c.id, Notification.kind == "case_submitted")).all()
    assert sorted(n.user_id for n in notes) == sorted([w.member.id, colleague.id])
