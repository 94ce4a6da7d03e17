"""The user's open deadlines and the overdue counts per department and stage (API and web)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.cases.access import deadlines_shown, visible
from service.cases.models import Case
from service.cases.stages import TERMINAL
from service.dashboard.overdue import deadline_overdue
from service.deadlines.models import Deadline, DeadlineStatus
from service.departments.models import Department
from service.errors import Forbidden

CIVIL_SERVANTS = (Role.OFFICER, Role.APPROVER, Role.REGISTRAR)


def my_deadlines(session: Session, user: User, limit: int = 500) -> list[Deadline]:
    """Open, missed and paused deadlines of the cases the user works on (org members: those their organisation meets)."""
    stmt = select(Deadline).join(Case, Case.id == Deadline.case_id).where(
        visible(user), deadlines_shown(user),
        Deadline.status.in_([DeadlineStatus.OPEN, DeadlineStatus.MISSED, DeadlineStatus.SUSPENDED]))
    if user.role == Role.OFFICER:
        stmt = stmt.where((Case.officer_id == user.id) | (Case.officer_id.is_(None)))
    return list(session.scalars(stmt.order_by(Deadline.due_at).limit(limit)))


@dataclass(frozen=True)
class StageCount:
    """Open cases and overdue deadlines of one department in one stage."""

    department_id: int
    department: str
    stage: str
    open_cases: int
    overdue_deadlines: int


def overdue_per_department(session: Session, user: User) -> list[StageCount]:
    """Open cases and overdue deadlines per department and stage (civil servants: own department)."""
    if user.role not in CIVIL_SERVANTS:
        raise Forbidden("Översikten är för förvaltningens personal / for civil servants")
    overdue = (select(func.count(Deadline.id)).where(Deadline.case_id == Case.id, deadline_overdue())
               .correlate(Case).scalar_subquery())
    rows = session.execute(
        select(Department.id, Department.name, Case.stage, func.count(Case.id), func.coalesce(func.sum(overdue), 0))
        .join(Department, Department.id == Case.department_id)
        .where(visible(user), Case.stage.not_in(list(TERMINAL)))
        .group_by(Department.id, Department.name, Case.stage).order_by(Department.name, Case.stage)
    ).all()
    return [StageCount(department_id=d, department=n, stage=s, open_cases=c, overdue_deadlines=o) for d, n, s, c, o in rows]
