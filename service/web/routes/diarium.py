"""The diarium on the web: the search page and the period report for registrars and officers, and a registrar's
correction of an entry on the case page (the API's domain function, diarium.service.correct)."""

from __future__ import annotations


from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.auth.models import Role
from service.cases.access import get_visible_case
from service.deps import AppSettings, DbSession
from service.diarium import report, service
from service.diarium.schemas import DiaryEntryPatch
from service.errors import AppError, ValidationFailed
from service.schemas import Id
from service.web.deps import CsrfForm, WebUser, attempt, require_role, text, web_router, whole
from service.web.forms import FormState
from service.web.rendering import redirect, render
from service.web.routes.cases import refused

router = web_router()

LABELS = {"q": "Sök", "fran": "Från och med", "till": "Till och med"}
REPORT_LABELS = {"fran": "Från och med", "till": "Till och med", "format": "Format"}


@router.get("/diarium")
def diarium_page(request: Request, user: WebUser, session: DbSession) -> Response:
    """The diary entries of the visible cases, newest first, filtered by text and period."""
    service.ensure_may_search(user)
    params = request.query_params
    raw = {k: (params.get(k) or "").strip()[:200] for k in ("q", "fran", "till")}
    form = FormState(prefix="diarium", labels=LABELS)
    form.values = raw
    date_from, date_to = form.parse_date("fran", raw["fran"]), form.parse_date("till", raw["till"])
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
    date_from, date_to = form.parse_date("fran", raw["fran"]), form.parse_date("till", raw["till"])
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


CORRECTION_FIELDS = ("description", "document_type", "counterpart", "confidential", "osl_reference")


@router.post("/arenden/{case_id}/diarium/{entry_id}")
def correct_entry(case_id: Id, entry_id: Id, request: Request, user: WebUser, form: CsrfForm, session: DbSession,
                  settings: AppSettings) -> Response:
    """A registrar corrects a diary entry (description, handlingstyp, counterpart, sekretess with the OSL reference); audited."""
    case = get_visible_case(session, user, case_id)
    require_role(user, Role.REGISTRAR)
    entry = service.get_entry(session, case, entry_id)
    try:
        # The form sends every field: what is left as it was is written back unchanged (the audit shows before and after).
        data = DiaryEntryPatch(description=text(form, "description"), document_type=text(form, "document_type"),
                               counterpart=text(form, "counterpart"), confidential=text(form, "confidential") == "ja",
                               osl_reference=text(form, "osl_reference"))
        with attempt(session):
            service.correct(session, user, case, entry, data, whole(form, "version"), settings)
    except (ValidationError, AppError) as exc:
        return refused(request, session, user, case, settings, f"diary{entry.id}", form, exc, CORRECTION_FIELDS)
    return redirect(f"/arenden/{case.id}#diarium", flash="diariepost-rattad")
