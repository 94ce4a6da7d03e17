"""The printable case sheet (ärendeblad): the case's facts, deadlines, decisions, signatures, documents and history on paper."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from service.cases.access import get_visible_case
from service.db import utcnow
from service.deps import AppSettings, DbSession
from service.labels import DEADLINE_STATUS, PARTIES
from service.schemas import Id
from service.web import casepage
from service.web.deps import WebUser, web_router
from service.web.rendering import render

router = web_router()


@router.get("/arenden/{case_id}/utskrift")
def case_sheet(case_id: Id, request: Request, user: WebUser, session: DbSession, settings: AppSettings) -> Response:
    """The case on one sheet for printing or filing, for whoever may open the case page (the same visibility and loaders)."""
    case = get_visible_case(session, user, case_id)
    view = casepage.load(session, user, case, settings)
    title = f"Ärendeblad {case.diarienummer}" if case.diarienummer else f"Ärendeblad: {case.title}"
    return render(request, "case/sheet.html", {"title": title, "v": view, "c": case, "printed_at": utcnow(),
                                               "DEADLINE_STATUS": DEADLINE_STATUS, "PARTIES": PARTIES})
