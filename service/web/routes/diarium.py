"""The diarium page for registrars and officers: search the diary entries of the cases one sees."""

from __future__ import annotations

from datetime import date

from fastapi import Request
from fastapi.responses import Response

from service.deps import AppSettings, DbSession
from service.diarium import report, service
from service.errors import ValidationFailed
from service.web.deps import WebUser, web_router
from service.web.forms import FormState
from service.web.rendering import render

router = web_router()

LABELS = {"q": "Sök", "fran": "Från och med", "till": "Till och med"}
REPORT_LABELS = {"fran": "Från och med", "till": "Till och med", "format": "Format"}


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
    context = {"title": "Diarium", "form": form, "rows": [], "limit": service.SEARCH_LIMIT,
               "report": FormState(prefix="rapport", labels=REPORT_LABELS, values={"format": "pdf"})}
    if form.has_errors:
        return render(request, "diarium/search.html", context, status_code=422)
    try:
        found = service.search(session, user, q=raw["q"] or None, date_from=date_from, date_to=date_to)
    except ValidationFailed:
        form.add("q", "Sökningen får inte innehålla styrtecken.")
        return render(request, "diarium/search.html", context, status_code=422)
    return render(request, "diarium/search.html", {**context, "rows": [(e, service.reference(c, e), c) for e, c in found]})


@router.get("/diarium/rapport")
def diarium_report(request: Request, user: WebUser, session: DbSession, settings: AppSettings) -> Response:
    """The diarium report of a period as CSV or PDF/A (the API's report); bad input re-shows the page with the errors."""
    service.ensure_may_search(user)
    params = request.query_params
    raw = {k: (params.get(k) or "").strip()[:200] for k in ("fran", "till", "format")}
    form = FormState(prefix="rapport", labels=REPORT_LABELS)
    form.values = raw
    date_from, date_to = _date(form, "fran", raw["fran"]), _date(form, "till", raw["till"])
    for field in ("fran", "till"):
        if not raw[field]:
            form.add(field, "Ange periodens datum som ÅÅÅÅ-MM-DD.")
    if date_from and date_to and date_from > date_to:
        form.add("till", "Slutdatumet kan inte vara före startdatumet.")
    if raw["format"] not in ("csv", "pdf"):
        form.add("format", "Välj PDF eller CSV.")
    if not form.has_errors:
        try:
            rows = report.rows(session, user, date_from, date_to)
        except ValidationFailed:  # the only refusal left once the dates are checked here: too many entries
            form.add("till", f"Perioden har fler än {service.REPORT_MAX} diarieposter; välj en kortare period.")
    if form.has_errors:
        search = FormState(prefix="diarium", labels=LABELS)
        return render(request, "diarium/search.html", {"title": "Diarium", "form": search, "rows": [], "limit": service.SEARCH_LIMIT,
                                                       "report": form, "searched": False}, status_code=422)
    if raw["format"] == "pdf":
        content, media_type = report.to_pdf(report.context(session, user, rows, date_from, date_to), settings), "application/pdf"
    else:
        content, media_type = report.to_csv(rows), report.CSV_TYPE
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{report.filename(date_from, date_to, raw["format"])}"'})
