"""The registrar's gallring page against the real services (no browser): the due list, making the list, approving a choice."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, datetime

from factories import World
from gallring_world import add, close, open_case, versions
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.cases.models import StageChange
from service.documents import service as documents
from service.effects import HANDLERS
from service.outbox.models import OutboxEvent
from service.outbox.service import Context
from service.retention import service as retention
from service.retention.models import DecisionStatus, DisposalDecision, ItemStatus
from tests.web.test_web_forms import Browserless, web  # noqa: F401  (the fixture)


def test_registrar_makes_the_list_and_approves_a_choice(web: Browserless, db: Session, app) -> None:  # noqa: F811, ANN001
    store = app.dependency_overrides[documents.get_store]()
    w = World(db)
    c = open_case(db, w)
    kept, gone = add(db, store, w, c, name="behall.pdf"), add(db, store, w, c, name="gallra.pdf")
    close(db, w, c)
    db.execute(update(StageChange).where(StageChange.case_id == c.id).values(at=datetime(2015, 3, 2, tzinfo=UTC)))
    db.flush()

    for other in (w.officer, w.approver, w.admin, w.member):
        Browserless(web.client).login(other).get("/gallring", expect=403)
    registrar = Browserless(web.client).login(w.registrar)
    page = htmllib.unescape(registrar.get("/gallring").text)
    assert '<a class="main-nav__link" href="/gallring" aria-current="page">Gallring</a>' in page
    assert "behall.pdf" in page and "gallras efter 5 år" in page and "2015-03-02" in page and "Inte på någon lista" in page
    assert "att godkänna" not in page and 'action="/gallring/lista"' in page  # no list yet, a button to make one

    registrar.post("/gallring/lista")
    decision = db.scalar(select(DisposalDecision).where(DisposalDecision.status == DecisionStatus.PROPOSED))
    listed = {i.document_id: i for i in retention.items(db, decision)}
    page = htmllib.unescape(registrar.get("/gallring").text)
    assert f"Gallringslista {decision.id} att godkänna" in page and f'value="{listed[gone.id].id}" checked' in page

    # Nothing chosen: the form again with the error, nothing approved or deleted.
    bad = htmllib.unescape(registrar.post(f"/gallring/{decision.id}/godkann", {}, expect=422).text)
    assert "Välj minst en handling att gallra." in bad and 'href="#gallring-item"' in bad
    assert decision.status == DecisionStatus.PROPOSED and versions(store, gone)
    # Another list's item (or a made-up one) is refused the same way.
    registrar.post(f"/gallring/{decision.id}/godkann", {"item": "999999"}, expect=422)

    registrar.post(f"/gallring/{decision.id}/godkann", {"item": str(listed[gone.id].id)})
    db.refresh(decision)
    assert decision.status == DecisionStatus.APPROVED and decision.approved_by_id == w.registrar.id
    assert listed[kept.id].status == ItemStatus.EXCLUDED and versions(store, gone)  # deleted only after the commit, by the outbox
    event = db.scalar(select(OutboxEvent).where(OutboxEvent.topic == retention.EXECUTE_TOPIC))
    HANDLERS[event.topic](db, event, Context(settings=None, mailer=None, store_factory=lambda: store, handlers=HANDLERS))
    assert versions(store, gone) == [] and versions(store, kept)
    page = htmllib.unescape(registrar.get("/gallring").text)
    assert f"Gallringsbeslut {decision.id}" in page and w.registrar.full_name in page
    assert "undantagen" in page and "gallrad " in page
    # The case's diarium keeps the entry and says that the handling was gallrad, by which decision.
    case_page = htmllib.unescape(registrar.get(f"/arenden/{c.id}").text)
    assert re.search(r'gallra\.pdf <span class="tag tag--neutral">Gallrad \d{4}-\d{2}-\d{2}</span>', case_page)
    assert f"(gallringsbeslut {decision.id})" in case_page
    # The documents list no longer links to it (its file is gone); the one left out still downloads.
    assert f'/dokument/{gone.id}"' not in case_page and f'/dokument/{kept.id}"' in case_page
    assert re.search(r'<td>gallra\.pdf <span class="tag tag--neutral">Gallrad \d{4}-\d{2}-\d{2}</span>', case_page)
    assert case_page.count("Gallrad ") == 2  # the diary entry and the document, not the one left out
