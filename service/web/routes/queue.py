"""The civil servants' work queue and the overview per stage (the case list and its CSV: caselist.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.auth.models import Role
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
