"""Asking for completion on the web: the officer's own form on the case page, and every request credited to whoever made
it (the officer, or the approver whose decision asked for it) on the case page and the organisation's start page."""

from __future__ import annotations

import re

from factories import World, case
from sqlalchemy.orm import Session
from test_web_forms import Browserless, web  # noqa: F401

from service.cases.stages import Stage
from service.db import utcnow
from service.reviews.models import Review, ReviewStatus


def _notice(html: str) -> str:
    found = re.search(r'<div class="notice notice--warning">\s*<h2 class="h3">Komplettering begärd</h2>(.*?)</div>', html, re.S)
    assert found, html[:3000]
    return found.group(1)


def test_officer_asks_on_the_case_page_and_is_credited(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    db.commit()
    web.login(w.officer2)
    page = web.get(f"/arenden/{c.id}").text
    assert f'action="/arenden/{c.id}/begar-komplettering"' in page
    refused = web.post(f"/arenden/{c.id}/begar-komplettering", {"message": " ", "version": str(c.version)}, expect=422).text
    assert "Skriv vad organisationen ska komplettera" in refused
    web.post(f"/arenden/{c.id}/begar-komplettering", {"message": "Bifoga budget för 2027", "version": str(c.version)})
    db.expire_all()
    assert c.open_for_changes is True
    shown = _notice(web.get(f"/arenden/{c.id}").text)
    assert "Bifoga budget för 2027" in shown and f"Begärd av {w.officer2.full_name}" in shown
    assert "begar-komplettering" not in web.get(f"/arenden/{c.id}").text  # already asked: no second form
    web.login(w.member)
    assert f"{w.officer2.full_name} har begärt komplettering." in web.get("/start").text
    assert f"Begärd av {w.officer2.full_name}" in _notice(web.get(f"/arenden/{c.id}").text)


def test_an_approvers_request_is_credited_to_the_approver(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id, open_for_changes=True)
    db.add(Review(case_id=c.id, from_stage=Stage.IDENTIFY_NEED, to_stage=Stage.DIALOGUE, requested_by_id=w.officer.id,
                  status=ReviewStatus.CHANGES_REQUESTED, decided_by_id=w.approver.id, decided_at=utcnow(),
                  motivation="Beskriv målgruppen", due_at=utcnow()))
    db.commit()
    web.login(w.member)
    assert f"{w.approver.full_name} har begärt komplettering." in web.get("/start").text
    shown = _notice(web.get(f"/arenden/{c.id}").text)
    assert f"Begärd av {w.approver.full_name} (beslut)" in shown and w.officer.full_name not in shown
