"""PDF/A copy from the case page: offered for generated documents when LibreOffice is installed."""

from __future__ import annotations

import re
from datetime import date

from factories import World, case
from sqlalchemy.orm import Session

from service.cases.stages import Stage
from service.dialogue.models import DialogueMeeting
from service.documents.models import Document, DocumentKind
from service.documents.pdfa import pdfa_available
from tests.web.test_web_forms import PDF, Browserless, web  # noqa: F401  (the fixture)


def test_officer_makes_a_pdfa_copy_of_generated_minutes(web: Browserless, db: Session) -> None:  # noqa: F811
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    db.add(DialogueMeeting(case_id=c.id, held_on=date(2026, 11, 2), participants=[{"name": "A"}]))
    db.flush()
    base = f"/arenden/{c.id}"
    officer = Browserless(web.client).login(w.officer)
    officer.post(f"{base}/dokument/skapa", {"kind": "dialogue_minutes"})
    officer.post(f"{base}/bilagor", {"kind": "attachment"}, files={"file": ("budget.pdf", PDF, "application/pdf")})
    minutes = db.query(Document).filter_by(case_id=c.id, kind=DocumentKind.DIALOGUE_MINUTES).one()
    page = officer.get(base).text
    buttons = set(re.findall(rf'action="{base}/dokument/(\d+)/pdf"', page))
    if not pdfa_available():
        assert buttons == set()  # the optional feature is not offered without LibreOffice
        return
    assert buttons == {str(minutes.id)}  # only the generated .docx, not the uploaded PDF
    officer.post(f"{base}/dokument/{minutes.id}/pdf")
    copy = db.query(Document).filter_by(case_id=c.id, kind=DocumentKind.DIALOGUE_MINUTES, version=2).one()
    assert copy.content_type == "application/pdf" and copy.filename.endswith(".pdf")
    assert "PDF/A-kopia är skapad" in officer.get(base).text
    member = Browserless(web.client).login(w.member)
    assert "/pdf" not in member.get(base).text
    member.post(f"{base}/dokument/{minutes.id}/pdf", expect=403)
