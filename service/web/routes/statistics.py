"""The statistics page for the municipality's staff: filters, charts with their tables, CSV and Excel downloads."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.datastructures import QueryParams

from service.auth.models import Role, User
from service.cases.stages import Stage
from service.deps import DbSession
from service.errors import ValidationFailed
from service.charts import Series, bar_chart, chart_figure, data_table, line_chart
from service.labels import STAGES
from service.statistics import export, service
from service.statistics.schemas import Duration, Statistics
from service.web import labels
from service.web.deps import WebUser, web_router
from service.web.forms import FormState
from service.web.rendering import render

router = web_router()

LABELS = {"forvaltning": "Förvaltning", "ar": "År"}
# The service's field names for the page's parameters.
FIELDS = {"department_id": "forvaltning", "year": "ar"}
SHOWN_STAGES = [s for s in Stage if s != Stage.DRAFT]


def _read(session: DbSession, user: User, params: QueryParams) -> tuple[FormState, service.DepartmentChoice, int | None]:
    """The page's filters as the service takes them; values that name nothing are reported on the form in Swedish."""
    service.ensure_staff(user)
    form = FormState(prefix="stat", labels=LABELS)
    raw_dep, raw_year = (params.get("forvaltning") or "").strip(), (params.get("ar") or "").strip()
    department: service.DepartmentChoice = None
    year = None
    try:
        department = service.parse_department(raw_dep)
        if department not in (None, service.ALL):
            service.resolve_scope(session, user, department, None)
    except ValidationFailed:
        form.add("forvaltning", "Välj en förvaltning i listan, eller Hela kommunen.")
    try:
        year = service.parse_year(raw_year)
    except ValidationFailed:
        form.add("ar", f"Ange ett årtal med fyra siffror mellan {service.YEAR_MIN} och {service.YEAR_MAX}, eller lämna fältet tomt.")
    default = service.default_department(user)
    form.values = {"forvaltning": raw_dep or (str(default) if default else service.ALL), "ar": raw_year}
    return form, department, year


def _query(s: Statistics) -> str:
    return urlencode([("forvaltning", str(s.department_id) if s.department_id is not None else service.ALL),
                      *([("ar", str(s.year))] if s.year is not None else [])])


def _duration_figure(chart_id: str, title: str, items: list[Duration], what: str) -> Markup:
    cats = [d.label for d in items]
    series = [Series("Medelvärde", [d.mean_working_days for d in items]), Series("Median", [d.median_working_days for d in items])]
    table = data_table(caption=f"{title} (antal {what}, medelvärde och median i arbetsdagar)", categories=cats, category_label="Avser",
                       series=[Series(f"Antal {what}", [d.count for d in items]), *series])
    chart = bar_chart(chart_id=chart_id, title=title, categories=cats, series=series, x_label="", y_label="Arbetsdagar",
                      description="Medelvärde och median i arbetsdagar (helgfria vardagar).", integer=False, width=760)
    return chart_figure(chart, table, show_table=True)


def figures(s: Statistics) -> dict[str, Markup]:
    """The page's charts, each with its data table."""
    years = [str(y) for y in s.years]
    cells = {(c.year, c.stage): c.count for c in s.partnerships}
    stages = [st for st in SHOWN_STAGES if any(c.stage == st.value for c in s.partnerships)]
    per_stage = [Series(STAGES[st], [cells.get((y, st.value), 0) for y in s.years]) for st in stages]
    totals = {y.year: y.count for y in s.partnerships_per_year}
    partnerships = chart_figure(
        bar_chart(chart_id="stat-partnerskap", title="Partnerskap per år och skede", categories=years, series=per_stage,
                  x_label="År för inskickat förslag", y_label="Antal partnerskap", integer=True,
                  description="Antal partnerskap per år då förslaget skickades in, efter det skede de är i nu."),
        data_table(caption="Partnerskap per år och skede", categories=years, category_label="År",
                   series=[*per_stage, Series("Totalt", [totals.get(y, 0) for y in s.years])]),
        show_table=True)
    funding_years = [str(f.year) for f in s.funding]
    decided = Series("Beslutat", [f.decided_sek for f in s.funding])
    paid = Series("Utbetalt", [f.paid_sek for f in s.funding])
    funding = chart_figure(
        bar_chart(chart_id="stat-finansiering", title="Beslutad och utbetald finansiering per år", categories=funding_years,
                  series=[decided, paid], x_label="År", y_label="Kronor", value_format=labels.sek,
                  description="Beslutat: avtal som trätt i kraft under året. Utbetalt: utbetalningar enligt avtalens utbetalningsplan."),
        data_table(caption="Finansiering per år", categories=funding_years, category_label="År", value_format=labels.number,
                   series=[Series("Beslutat (kr)", decided.values), Series("Antal avtal", [f.decided_agreements for f in s.funding]),
                           Series("Utbetalt (kr)", paid.values), Series("Antal utbetalningar", [f.paid_instalments for f in s.funding])]),
        show_table=True)
    org_years = [y.year for y in s.partnerships_per_year]
    orgs = {y.year: y.count for y in s.organisations_per_year}
    per_year = [Series("Partnerskap", [totals.get(y, 0) for y in org_years]), Series("Organisationer", [orgs.get(y, 0) for y in org_years])]
    organisations = chart_figure(
        line_chart(chart_id="stat-organisationer", title="Partnerskap och organisationer per år", categories=[str(y) for y in org_years],
                   series=per_year, x_label="År för inskickat förslag", y_label="Antal", integer=True,
                   description="Antal partnerskap och antal olika organisationer bakom dem, per år då förslaget skickades in."),
        data_table(caption="Partnerskap och organisationer per år", categories=[str(y) for y in org_years], category_label="År",
                   series=per_year),
        show_table=True)
    return {
        "partnerships": partnerships, "funding": funding, "organisations": organisations,
        "stages": _duration_figure("stat-skeden", "Tid i varje skede", s.stage_durations, "avslutade skeden"),
        "reviews": _duration_figure("stat-granskningar", "Tid från begäran till beslut", s.review_durations, "beslut"),
    }


@router.get("/statistik")
def statistics_page(request: Request, user: WebUser, session: DbSession) -> Response:
    """Statistics for a department or the whole municipality, with charts, tables and downloads."""
    form, department, year = _read(session, user, request.query_params)
    departments = service.department_choices(session)
    context = {"title": "Statistik", "form": form, "stats": None,
               "department_options": [(service.ALL, service.MUNICIPALITY), *((str(d.id), d.name) for d in departments)]}
    if form.has_errors:
        return render(request, "officer/statistics.html", context, status_code=422)
    stats = service.compute(session, user, department, year)
    return render(request, "officer/statistics.html", {
        **context, "stats": stats, "figures": figures(stats), "query": _query(stats),
        "overdue_kinds": [o for o in stats.overdue_deadlines if o.count], "overdue_list": _overdue_list(user, stats),
    })


def _overdue_list(user: User, s: Statistics) -> str | None:
    """The case list of the same overdue cases, where the list shows the same ones (the user's visibility, every year)."""
    if not s.overdue_cases or s.year is not None:
        return None
    if user.role == Role.REGISTRAR:
        return "/arenden?forsenade=ja" + (f"&forvaltning={s.department_id}" if s.department_id is not None else "")
    if user.role in (Role.OFFICER, Role.APPROVER) and s.department_id == user.department_id:
        return "/arenden?forsenade=ja"
    return None


def _download(request: Request, user: User, session: DbSession, ext: str) -> Response:
    form, department, year = _read(session, user, request.query_params)
    if form.has_errors:
        raise ValidationFailed("Filtret är ogiltigt: " + " ".join(m for _, m in form.summary()))
    s = service.compute(session, user, department, year)
    content, media = (export.to_csv(s), export.CSV_TYPE) if ext == "csv" else (export.to_xlsx(s), export.XLSX_TYPE)
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{export.filename(s, ext)}"'})


@router.get("/statistik.csv")
def statistics_csv(request: Request, user: WebUser, session: DbSession) -> Response:
    """The page's statistics as CSV."""
    return _download(request, user, session, "csv")


@router.get("/statistik.xlsx")
def statistics_xlsx(request: Request, user: WebUser, session: DbSession) -> Response:
    """The page's statistics as an Excel workbook."""
    return _download(request, user, session, "xlsx")
