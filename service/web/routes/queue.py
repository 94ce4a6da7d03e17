"""The civil servants' work queue, the case list with its CSV export, and the overview per stage."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.cases import repository
from service.cases.access import visible
from service.cases.models import Case
from service.cases.stages import TERMINAL, Stage
from service.dashboard.overdue import overdue_case_ids
from service.db import utcnow
from service.deadlines.models import Deadline, DeadlineStatus
from service.departments.models import Department
from service.deps import DbSession
from service.reviews.models import Review, ReviewStatus
from service.schemas import Id
from service.web import labels
from service.web.deps import WebUser, require_role, web_router
from service.web.rendering import render
from service.web.routes.staff import CIVIL, LISTERS

router = web_router()




@dataclass
class QueueRow:
    """A case in the work queue with its nearest due time."""

    case: Case
    due: datetime | None
    overdue: bool
    note: str
    review: Review | None = None


def _due_times(session: Session, case_ids: list[int]) -> dict[int, datetime]:
    """Earliest open or missed deadline or pending review per case (what the queue sorts by)."""
    if not case_ids:
        return {}
    out: dict[int, datetime] = {}
    rows = session.execute(select(Deadline.case_id, func.min(Deadline.due_at)).where(
        Deadline.case_id.in_(case_ids), Deadline.status.in_([DeadlineStatus.OPEN, DeadlineStatus.MISSED])).group_by(Deadline.case_id)).all()
    rows += session.execute(select(Review.case_id, func.min(Review.due_at)).where(
        Review.case_id.in_(case_ids), Review.status == ReviewStatus.PENDING).group_by(Review.case_id)).all()
    for case_id, due in rows:
        if due is None:
            continue
        due = _aware(due)
        if case_id not in out or due < out[case_id]:
            out[case_id] = due
    return out


def _aware(value: datetime) -> datetime:
    """Aggregates may bypass the UTC column type on SQLite; make them aware again."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _queue(rows: list[QueueRow]) -> list[QueueRow]:
    """Overdue first, then the nearest due time, then oldest."""
    far = datetime.max.replace(tzinfo=utcnow().tzinfo)
    return sorted(rows, key=lambda r: (not r.overdue, r.due or far, r.case.id))


@router.get("/arbetsko")
def work_queue(request: Request, user: WebUser, session: DbSession) -> Response:
    """My cases, unassigned cases and (for approvers) reviews awaiting my decision; overdue first."""
    require_role(user, *CIVIL)
    overdue = overdue_case_ids(session, user)
    awaiting: list[QueueRow] = []
    if user.role == Role.APPROVER:
        pending = session.scalars(
            select(Review).join(Case, Case.id == Review.case_id)
            .where(visible(user), Review.status == ReviewStatus.PENDING,
                   or_(Review.approver_id.is_(None), Review.approver_id == user.id), Review.requested_by_id != user.id)
        ).all()
        for r in pending:
            c = session.get(Case, r.case_id)
            assert c is not None
            awaiting.append(QueueRow(c, r.due_at, c.id in overdue,
                                     f"{labels.stage_label(r.from_stage)} → {labels.stage_label(r.to_stage)}", r))
    base = select(Case).where(visible(user), Case.stage.not_in(list(TERMINAL)))
    mine = list(session.scalars(base.where(Case.officer_id == user.id))) if user.role == Role.OFFICER else []
    unassigned = list(session.scalars(base.where(Case.officer_id.is_(None)).order_by(Case.submitted_at)))
    due = _due_times(session, [c.id for c in mine + unassigned])
    pending_ids = set(session.scalars(
        select(Review.case_id).where(Review.case_id.in_([c.id for c in mine]), Review.status == ReviewStatus.PENDING))) if mine else set()

    def row(c: Case) -> QueueRow:
        note = "Väntar på beslut" if c.id in pending_ids else "Komplettering begärd" if c.open_for_changes else ""
        return QueueRow(c, due.get(c.id), c.id in overdue, note)

    return render(request, "officer/queue.html", {
        "title": "Arbetskö", "awaiting": _queue(awaiting), "mine": _queue([row(c) for c in mine]),
        "unassigned": _queue([row(c) for c in unassigned]),
    })


def _filter(user: User, skede: list[str] | None, q: str | None, forsenade: str | None, mina: str | None) -> repository.CaseFilter:
    stages = [Stage(s) for s in (skede or []) if s in Stage.__members__.values()]
    return repository.CaseFilter(stage=stages or None, officer_id=user.id if mina else None,
                                 overdue=True if forsenade else None, q=(q or "").strip() or None)


StageQuery = Annotated[list[str] | None, Query()]


@router.get("/arenden")
def case_list(request: Request, user: WebUser, session: DbSession, skede: StageQuery = None, q: str | None = None,
              forsenade: str | None = None, mina: str | None = None, sida: str | None = None) -> Response:
    """All visible cases, filtered, newest first, cursor-paginated."""
    require_role(user, *LISTERS)
    f = _filter(user, skede, q, forsenade, mina)
    items, next_cursor = repository.list_cases(session, user, f, sort="-created_at", cursor=sida, limit=25)
    overdue = overdue_case_ids(session, user)
    params = request.query_params
    export_query = "&".join(f"{k}={v}" for k, v in params.multi_items() if k != "sida")
    stages = [s for s in Stage if not (user.role in CIVIL and s == Stage.DRAFT)]
    return render(request, "officer/list.html", {
        "title": "Alla ärenden", "items": items, "next_cursor": next_cursor, "overdue": overdue, "stages": stages,
        "filters": {"skede": skede or [], "q": q or "", "forsenade": bool(forsenade), "mina": bool(mina)},
        "export_query": export_query, "query_without_page": export_query,
    })


def _csv_cell(value: Any) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in free text."""
    s = "" if value is None else str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


@router.get("/export/arenden.csv")
def export_csv(user: WebUser, session: DbSession, skede: StageQuery = None, q: str | None = None, forsenade: str | None = None,
               mina: str | None = None) -> Response:
    """The filtered case list as CSV (semicolon-separated with BOM, as Swedish Excel expects)."""
    require_role(user, *LISTERS)
    f = _filter(user, skede, q, forsenade, mina)
    rows: list[Case] = []
    cursor: str | None = None
    while True:  # whole list, page by page, so memory per query stays bounded
        items, cursor = repository.list_cases(session, user, f, sort="-created_at", cursor=cursor, limit=500)
        rows.extend(items)
        if not cursor:
            break
    overdue = overdue_case_ids(session, user)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["Diarienummer", "Titel", "Organisation", "Organisationsnummer", "Förvaltning", "Skede", "Handläggare",
                "Sökt belopp (kr)", "Försenat", "Inskickat", "Senast ändrat"])
    for c in rows:
        w.writerow([_csv_cell(c.diarienummer), _csv_cell(c.title), _csv_cell(c.organisation.name), c.organisation.orgnr,
                    _csv_cell(c.department.name), labels.stage_label(c.stage), _csv_cell(c.officer.full_name if c.officer else ""),
                    c.requested_amount_sek, "ja" if c.id in overdue else "nej", labels.tidpunkt(c.submitted_at) if c.submitted_at else "",
                    labels.tidpunkt(c.updated_at)])
    data = "\ufeff" + buf.getvalue()
    stamp = utcnow().astimezone(labels.STOCKHOLM).strftime("%Y%m%d-%H%M")
    return Response(data.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="iop-arenden-{stamp}.csv"'})


@router.get("/oversikt")
def overview(request: Request, user: WebUser, session: DbSession, forvaltning: Id | None = None) -> Response:
    """Counts, amounts and overdue cases per stage for the department (registrars choose one or all)."""
    require_role(user, *LISTERS)
    departments = list(session.scalars(select(Department).order_by(Department.name)))
    dep_id = user.department_id if user.role in CIVIL else forvaltning
    stmt = select(Case.stage, func.count(), func.coalesce(func.sum(Case.requested_amount_sek), 0)).where(visible(user))
    if dep_id:
        stmt = stmt.where(Case.department_id == dep_id)
    counts = {stage: (n, total) for stage, n, total in session.execute(stmt.group_by(Case.stage))}
    overdue_ids = overdue_case_ids(session, user)
    over_stmt = select(Case.stage, func.count()).where(Case.id.in_(overdue_ids))
    if dep_id:
        over_stmt = over_stmt.where(Case.department_id == dep_id)
    overdue = dict(session.execute(over_stmt.group_by(Case.stage)).all()) if overdue_ids else {}
    rows = [(s, *counts.get(s, (0, 0)), overdue.get(s, 0)) for s in Stage if not (user.role in CIVIL and s == Stage.DRAFT)]
    active = [r for r in rows if r[0] not in TERMINAL and r[0] != Stage.DRAFT]
    department = session.get(Department, dep_id) if dep_id else None
    return render(request, "officer/overview.html", {
        "title": "Översikt per skede", "rows": rows, "department": department, "departments": departments,
        "totals": {"count": sum(r[1] for r in rows), "active": sum(r[1] for r in active), "active_amount": sum(r[2] for r in active),
                   "overdue": sum(r[3] for r in rows)},
        "max_count": max([r[1] for r in rows] + [1]),
    })
