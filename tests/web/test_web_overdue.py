"""A deadline the sweep marked missed stays overdue everywhere the web shows it, and can still be extended there."""

from __future__ import annotations

import re
from datetime import timedelta

from factories import World, case
from sqlalchemy.orm import Session

from service.cases.stages import Stage
from service.config import get_settings
from service.db import utcnow
from service.deadlines.models import Deadline, DeadlineKind, DeadlineStatus
from service.deadlines.rules import create
from service.deadlines.sweep import mark_missed_and_escalate
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)


def _row(html: str, title: str) -> str:
    """The table row that links to the case with this title."""
    rows = [r for r in re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S) if title in r]
    assert len(rows) == 1, rows
    return rows[0]


def test_missed_deadline_is_overdue_in_queue_list_csv_and_case_page_and_extendable(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    late = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id, title="Sen läxhjälp")
    on_time = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id, title="Läxhjälp i tid")
    settings = get_settings()
    d = create(db, late, DeadlineKind.DIALOGUE, settings, due_at=utcnow() - timedelta(days=3))
    create(db, on_time, DeadlineKind.DIALOGUE, settings, due_at=utcnow() + timedelta(days=30))
    mark_missed_and_escalate(db, settings)
    db.expire_all()
    assert db.get(Deadline, d.id).status == DeadlineStatus.MISSED

    officer = Browserless(web.client).login(w.officer)
    queue = officer.get("/arbetsko").text
    assert "row--overdue" in _row(queue, "Sen läxhjälp") and "Försenad" in _row(queue, "Sen läxhjälp")
    assert "row--overdue" not in _row(queue, "Läxhjälp i tid")

    listing = officer.get("/arenden").text
    assert "Försenat" in _row(listing, "Sen läxhjälp") and "Försenat" not in _row(listing, "Läxhjälp i tid")
    only_late = officer.get("/arenden?forsenade=1").text
    assert "Sen läxhjälp" in only_late and "Läxhjälp i tid" not in only_late

    csv_lines = officer.get("/export/arenden.csv").content.decode("utf-8-sig").splitlines()
    late_line = next(line for line in csv_lines if "Sen läxhjälp" in line)
    on_time_line = next(line for line in csv_lines if "Läxhjälp i tid" in line)
    assert late_line.split(";")[8] == "ja" and on_time_line.split(";")[8] == "nej"

    base = f"/arenden/{late.id}"
    page = officer.get(base).text
    assert 'tag--danger">Försenat' in page and "Missad" in page
    assert f'action="{base}/frister/{d.id}/forlang"' in page
    officer.post(f"{base}/frister/{d.id}/forlang", {"working_days": "20", "reason": "Föreningen bytte styrelse"})
    db.expire_all()
    extended = db.get(Deadline, d.id)
    assert extended.status == DeadlineStatus.OPEN and extended.due_at > utcnow()
    page = officer.get(base).text
    assert 'tag--danger">Försenat' not in page and "Missad" not in page
    assert "row--overdue" not in _row(officer.get("/arbetsko").text, "Sen läxhjälp")
