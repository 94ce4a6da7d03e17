"""The registrar's gallring page: what is due under the informationshanteringsplan, the proposed list and its approval."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.cases.models import Case
from service.deps import DbSession
from service.documents.models import Document
from service.errors import ValidationFailed
from service.retention import service as retention
from service.retention.models import DecisionStatus
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, web_router
from service.web.forms import FormState
from service.web.rendering import redirect, render

router = web_router()
LABELS = {"item": "Handlingar att gallra"}
SHOWN_DECISIONS = 20


def _page(request: Request, session: Session, form: FormState | None = None, status_code: int = 200) -> Response:
    due = retention.due_for_gallring(session)
    decisions = retention.list_decisions(session, limit=SHOWN_DECISIONS)
    items = {d.id: retention.items(session, d) for d in decisions}
    doc_ids = {i.document_id for rows in items.values() for i in rows}
    case_ids = {i.case_id for rows in items.values() for i in rows}
    docs = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(doc_ids)))} if doc_ids else {}
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))} if case_ids else {}
    people = {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_({d.approved_by_id for d in decisions if d.approved_by_id})))}
    proposed = next((d for d in decisions if d.status == DecisionStatus.PROPOSED), None)
    return render(request, "gallring.html", {
        "title": "Gallring", "due": due, "decisions": decisions, "items": items, "docs": docs, "cases": cases, "people": people,
        "proposed": proposed, "state": retention.state_label, "plan": retention.plan(),
        "form": form or FormState(prefix="gallring", labels=LABELS), "unlisted": [d for d in due if d.listed_in is None],
    }, status_code=status_code)


@router.get("/gallring")
def gallring_page(request: Request, user: WebUser, session: DbSession) -> Response:
    """What is due for gallring, the open list to approve, and the decisions made."""
    retention.ensure_registrar(user)
    return _page(request, session)


@router.post("/gallring/lista")
def make_list(user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """Put everything due on the proposed list (the same as the daily flow does)."""
    retention.ensure_registrar(user)
    retention.propose(session, actor=user)
    return redirect("/gallring", flash="gallringslista")


@router.post("/gallring/{decision_id}/godkann")
def approve(request: Request, decision_id: Id, user: WebUser, form: CsrfForm, session: DbSession) -> Response:
    """The registrar approves the chosen handlingar of the list; the rest is left out. Deleted after the commit."""
    retention.ensure_registrar(user)
    decision = retention.get_decision(session, decision_id)
    state = FormState(prefix="gallring", labels=LABELS)
    chosen: list[int] = []
    for raw in form.getlist("item"):
        if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 10:
            state.add("item", "Välj handlingar från listan.")
            break
        chosen.append(int(raw))
    if not chosen and not state.has_errors:
        state.add("item", "Välj minst en handling att gallra.")
    if state.has_errors:
        return _page(request, session, state, status_code=422)
    try:
        retention.approve(session, user, decision, chosen)
    except ValidationFailed:
        state.add("item", "Välj handlingar från listan.")
        return _page(request, session, state, status_code=422)
    return redirect("/gallring", flash="gallring-godkand")
