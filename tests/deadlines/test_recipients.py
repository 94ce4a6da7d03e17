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
