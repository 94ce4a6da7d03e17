"""The diarium page for registrars and officers: search the diary entries of the cases one sees."""

from __future__ import annotations

from datetime import date

from fastapi import Request
from fastapi.responses import Response

from service.deps import DbSession
from service.diarium import service
from service.errors import ValidationFailed
from service.web.deps import WebUser, web_router
from service.web.forms import FormState
from service.web.rendering import render

router = web_router()

LABELS = {"q": "Sök", "fran": "Från och med", "till": "Till och med"}


def _date(form: FormState, field: str, raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        form.add(field, "Ange datumet som ÅÅÅÅ-MM-DD, t.ex. 2026-03-01.")
        return None


@router.get("/diarium")
def diarium_page(request: Request, user: WebUser, session: DbSession) -> Response:
    """The diary entries of the visible cases, newest first, filtered by text and period."""
    service.ensure_may_search(user)
    params = request.query_params
    raw = {k: (params.get(k) or "").strip()[:200] for k in ("q", "fran", "till")}
    form = FormState(prefix="diarium", labels=LABELS)
    form.values = raw
    date_from, date_to = _date(form, "fran", raw["fran"]), _date(form, "till", raw["till"])
    if date_from and date_to and date_from > date_to:
        form.add("till", "Slutdatumet kan inte vara före startdatumet.")
    context = {"title": "Diarium", "form": form, "rows": [], "limit": service.SEARCH_LIMIT}
    if form.has_errors:
        return render(request, "diarium/search.html", context, status_code=422)
    try:
        found = service.search(session, user, q=raw["q"] or None, date_from=date_from, date_to=date_to)
    except ValidationFailed:
        form.add("q", "Sökningen får inte innehålla styrtecken.")
        return render(request, "diarium/search.html", context, status_code=422)
    return render(request, "diarium/search.html", {**context, "rows": [(e, service.reference(c, e), c) for e, c in found]})
