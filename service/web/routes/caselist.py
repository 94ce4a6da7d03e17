"""The civil servants' list of all cases (search, filters, sortable columns, pages) and its CSV export.

The page only reads its address into a service.cases.listing.CaseFilter and a sort; which cases match, their
order, the next deadline and "overdue" are listing's (the same query as the API's GET /cases).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from service.auth.models import Role, User
from service.cases import listing
from service.cases.stages import Stage
from service.db import utcnow
from service.deps import DbSession
from service.errors import ValidationFailed
from service.spreadsheet import safe_cell
from service.web import labels
from service.web.deps import WebUser, digits, require_role, web_router
from service.web.forms import FormState
from service.web.rendering import render
from service.web.routes.staff import CIVIL, LISTERS

router = web_router()

PAGE_SIZE = 25
WEB_DEFAULT_SORT = "-updated_at"  # the most recently changed first: where something has happened
# The list's columns: (sort key or None, heading, first click descending?). Dates and amounts largest first, the rest A–Ö / 0–9.
COLUMNS: tuple[tuple[str | None, str, bool], ...] = (
    ("diarienummer", "Diarienummer", False),
    ("title", "Ärende", False),
    ("organisation", "Organisation", False),
    ("stage", "Skede", False),
    (None, "Handläggare", False),
    ("next_deadline", "Nästa frist", False),
    ("requested_amount_sek", "Belopp", True),
    ("updated_at", "Ändrat", True),
)
# The form's fields in the order they appear (the error summary follows it) and their labels.
LABELS = {"q": "Titel eller diarienummer", "org": "Organisation", "skede": "Skede", "forvaltning": "Förvaltning",
          "handlaggare": "Handläggare", "ar": "Inskickat år", "sortera": "Sortering", "sida": "Sida"}
# Query parameters the list keeps from one page to the next (sida is the cursor, set per link).
KEPT = ("q", "org", "skede", "forvaltning", "handlaggare", "ar", "forsenade", "sortera")


@dataclass
class ListRequest:
    """The list as the address asks for it: filter, sort, cursor, and the form's values and Swedish errors."""

    filter: listing.CaseFilter
    sort: str
    cursor: str | None
    form: FormState
    kept: list[tuple[str, str]] = field(default_factory=list)  # the normalised parameters, for links

    def query(self, **override: str | None) -> str:
        """This list's query string with some parameters replaced (None drops one)."""
        items = [(k, v) for k, v in self.kept if k not in override]
        items += [(k, v) for k, v in override.items() if v]
        return urlencode(items)


def read_request(params: QueryParams, user: User) -> ListRequest:
    """The list's parameters; values that name nothing are kept for the form and reported in Swedish."""
    form = FormState(prefix="filter", labels=LABELS)
    kept: list[tuple[str, str]] = []

    def one(name: str) -> str:
        raw = (params.get(name) or "").strip()
        form.values[name] = raw
        if raw:
            kept.append((name, raw))
        return raw

    q, org = one("q"), one("org")
    stages: list[Stage] = []
    for raw in (s.strip() for s in params.getlist("skede")):
        if not raw:
            continue
        kept.append(("skede", raw))
        form.values.setdefault("skede", raw)
        if raw in Stage.__members__.values():
            stages.append(Stage(raw))
        else:
            form.add("skede", "Välj ett skede i listan.")
    department_id = None
    if raw := one("forvaltning"):
        department_id = int(raw) if digits(raw) and len(raw) < 10 else None
        if department_id is None:
            form.add("forvaltning", "Välj en förvaltning i listan.")
    officer = one("handlaggare") or ("mina" if params.get("mina") else "")  # ?mina=ja from older links
    if officer and not form.values["handlaggare"]:
        form.values["handlaggare"] = officer
        kept.append(("handlaggare", officer))
    officer_id: int | None = None
    if officer and officer not in ("mina", "ingen"):
        officer_id = int(officer) if digits(officer) and len(officer) < 10 else None
        if officer_id is None:
            form.add("handlaggare", "Välj en handläggare i listan.")
    year = None
    if raw := one("ar"):
        year = int(raw) if digits(raw) and len(raw) == 4 else None
        if year is None:
            form.add("ar", "Ange året med fyra siffror, till exempel 2026.")
    overdue = bool(params.get("forsenade"))
    if overdue:
        form.values["forsenade"] = "ja"
        kept.append(("forsenade", "ja"))
    sort = one("sortera") or WEB_DEFAULT_SORT
    f = listing.CaseFilter(stage=stages or None, department_id=department_id, officer_id=officer_id, overdue=True if overdue else None,
                           q=q or None, organisation_q=org or None, mine=True if officer == "mina" else None,
                           unassigned=True if officer == "ingen" else None, submitted_year=year)
    return ListRequest(f, sort, (params.get("sida") or "").strip() or None, form, kept)


# The listing's field names as the form calls them.
FORM_FIELDS = {"q": "q", "organisation_q": "org", "stage": "skede", "department_id": "forvaltning", "officer_id": "handlaggare",
               "submitted_year": "ar", "sort": "sortera", "cursor": "sida"}


def refuse(form: FormState, exc: ValidationFailed) -> None:
    """Put the listing's refusal next to the form field it is about, in Swedish."""
    for item in exc.errors:
        name = FORM_FIELDS.get(str(item.get("field") or ""))
        if name == "sortera":  # no field of its own: the column headings sort
            form.add(None, "Listan kan inte sorteras så. Välj en kolumnrubrik att sortera på.")
        elif name == "sida":
            form.add(None, "Sidan finns inte längre. Börja om från listans första sida.")
        else:
            form.add(name, labels.swedish_part(str(item.get("message") or exc.detail)))
    if not exc.errors:
        form.add(None, labels.swedish_part(exc.detail))


def _columns(req: ListRequest) -> list[dict[str, Any]]:
    """Per column: its heading and, if sortable, the address that sorts by it (or reverses it) and its aria-sort."""
    current, descending = (req.sort.removeprefix("-"), req.sort.startswith("-"))
    out: list[dict[str, Any]] = []
    for key, heading, first_desc in COLUMNS:
        if key is None:
            out.append({"key": None, "heading": heading, "href": None, "aria_sort": None})
            continue
        active = key == current
        next_desc = not descending if active else first_desc
        out.append({
            "key": key, "heading": heading, "href": "/arenden?" + req.query(sortera=("-" if next_desc else "") + key, sida=None),
            "aria_sort": ("descending" if descending else "ascending") if active else None, "next": "fallande" if next_desc else "stigande",
        })
    return out


@router.get("/arenden")
def case_list(request: Request, user: WebUser, session: DbSession) -> Response:
    """All cases the user may see: searched, filtered and sorted by column, a page at a time."""
    require_role(user, *LISTERS)
    req = read_request(request.query_params, user)
    items: list[listing.Listed] = []
    next_cursor = None
    if not req.form.has_errors:
        try:
            items, next_cursor = listing.page(session, user, req.filter, sort=req.sort, cursor=req.cursor, limit=PAGE_SIZE)
        except ValidationFailed as exc:
            refuse(req.form, exc)
    stages = [s for s in Stage if not (user.role in CIVIL and s == Stage.DRAFT)]
    departments = listing.department_choices(session, user)
    if not departments and "forvaltning" in req.form.errors:  # no department field to point at: said above the form
        req.form.general.append(req.form.errors.pop("forvaltning"))
    department_names = {d.id: d.name for d in departments}  # a registrar's officers are told apart by their department
    officer_options = ([("mina", "Mina ärenden")] if user.role == Role.OFFICER else []) + [("ingen", "Ingen handläggare utsedd")]
    officer_options += [(str(o.id), o.full_name + (f" ({department_names[o.department_id]})" if o.department_id in department_names else ""))
                        for o in listing.officer_choices(session, user)]
    return render(request, "officer/list.html", {
        "title": "Alla ärenden", "items": items, "next_cursor": next_cursor, "form": req.form, "req": req,
        "stage_options": [(s.value, labels.stage_label(s)) for s in stages], "officer_options": officer_options,
        "department_options": [(str(d.id), d.name) for d in departments],
        "columns": _columns(req), "export_query": req.query(sida=None),
        "next_query": req.query(sida=next_cursor) if next_cursor else None, "first_query": req.query(sida=None) if req.cursor else None,
    }, status_code=422 if req.form.has_errors else 200)


_csv_cell = safe_cell  # neutralise spreadsheet formulas (CSV injection) in free text


@router.get("/export/arenden.csv")
def export_csv(request: Request, user: WebUser, session: DbSession) -> Response:
    """The filtered, sorted case list as CSV (semicolon-separated with BOM, as Swedish Excel expects)."""
    require_role(user, *LISTERS)
    req = read_request(request.query_params, user)
    if req.form.has_errors:
        raise ValidationFailed("Filtret är ogiltigt: " + " ".join(m for _, m in req.form.summary()))
    rows: list[listing.Listed] = []
    cursor: str | None = None
    while True:  # whole list, page by page, so memory per query stays bounded
        items, cursor = listing.page(session, user, req.filter, sort=req.sort, cursor=cursor, limit=500)
        rows.extend(items)
        if not cursor:
            break
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["Diarienummer", "Titel", "Organisation", "Organisationsnummer", "Förvaltning", "Skede", "Handläggare",
                "Sökt belopp (kr)", "Försenat", "Inskickat", "Senast ändrat", "Nästa frist"])
    for c in rows:
        w.writerow([_csv_cell(c.diarienummer), _csv_cell(c.title), _csv_cell(c.organisation.name), c.organisation.orgnr,
                    _csv_cell(c.department.name), labels.stage_label(c.stage), _csv_cell(c.officer.full_name if c.officer else ""),
                    c.requested_amount_sek, "ja" if c.overdue else "nej", labels.tidpunkt(c.submitted_at) if c.submitted_at else "",
                    labels.tidpunkt(c.updated_at), labels.datum(c.next_deadline_at) if c.next_deadline_at else ""])
    data = "\ufeff" + buf.getvalue()
    stamp = utcnow().astimezone(labels.STOCKHOLM).strftime("%Y%m%d-%H%M")
    return Response(data.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="iop-arenden-{stamp}.csv"'})
