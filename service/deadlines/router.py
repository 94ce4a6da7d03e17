"""Deadlines of a case, suspension/resumption, extension, notifications and dashboards."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from service.auth.models import Role
from service.cases.access import get_visible_case, visible
from service.cases.models import Case
from service.cases.stages import TERMINAL
from service.db import utcnow
from service.deadlines import service
from service.deadlines.models import Deadline, DeadlineKind, DeadlineStatus
from service.deadlines.policy import ORG_DEADLINES
from service.deps import AppSettings, CurrentUser, DbSession
from service.errors import Forbidden, NotFound
from service.outbox.models import Notification
from service.schemas import Id, LongText, ORMModel

router = APIRouter(tags=["deadlines"])


class DeadlineOut(ORMModel):
    """A deadline as shown."""

    id: int
    case_id: int
    kind: DeadlineKind
    label: str
    due_at: datetime
    original_due_at: datetime
    status: DeadlineStatus
    extension_reason: str | None
    escalated_at: datetime | None


class SuspendIn(BaseModel):
    """Why the case's clock stops."""

    reason: Annotated[str, Field(min_length=3, max_length=5000)]


class SuspensionOut(ORMModel):
    """A suspension period."""

    id: int
    case_id: int
    reason: str
    started_at: datetime
    ended_at: datetime | None
    working_days: int | None


class ExtendIn(BaseModel):
    """Move one deadline later: to a date or by working days, with a reason."""

    due_on: date | None = None
    working_days: Annotated[int, Field(ge=1, le=250)] | None = None
    reason: Annotated[str, Field(min_length=3, max_length=5000)]


class NotificationOut(ORMModel):
    """An in-app notification."""

    id: int
    case_id: int | None
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class DepartmentOverdue(BaseModel):
    """Overdue and open counts per department and stage."""

    department_id: int
    department: str
    stage: str
    open_cases: int
    overdue_deadlines: int


@router.get("/cases/{case_id}/deadlines", response_model=list[DeadlineOut])
def list_deadlines(case_id: Id, session: DbSession, user: CurrentUser) -> list[Deadline]:
    """The case's deadlines by due time (the organisation sees the ones it must meet itself)."""
    case = get_visible_case(session, user, case_id)
    stmt = select(Deadline).where(Deadline.case_id == case.id)
    if user.role == Role.ORG_MEMBER:
        stmt = stmt.where(Deadline.kind.in_(ORG_DEADLINES))
    return list(session.scalars(stmt.order_by(Deadline.due_at, Deadline.id)))


@router.post("/cases/{case_id}/suspend", response_model=SuspensionOut, status_code=201)
def suspend(case_id: Id, data: SuspendIn, session: DbSession, user: CurrentUser) -> object:
    """Stop the clock (e.g. waiting for the organisation); open deadlines pause."""
    return service.suspend(session, user, get_visible_case(session, user, case_id), data.reason)


@router.post("/cases/{case_id}/resume", response_model=SuspensionOut)
def resume(case_id: Id, session: DbSession, user: CurrentUser, settings: AppSettings) -> object:
    """Restart the clock; paused deadlines move by the suspended working days."""
    return service.resume(session, user, get_visible_case(session, user, case_id), settings)


@router.post("/cases/{case_id}/deadlines/{deadline_id}/extend", response_model=DeadlineOut)
def extend(case_id: Id, deadline_id: Id, data: ExtendIn, session: DbSession, user: CurrentUser, settings: AppSettings) -> Deadline:
    """Extend one deadline with a reason."""
    case = get_visible_case(session, user, case_id)
    d = service.get_case_deadline(session, case, deadline_id)
    return service.extend(session, user, d, case, settings, due_on=data.due_on, working_days=data.working_days, reason=data.reason)


@router.get("/notifications", response_model=list[NotificationOut])
def notifications(session: DbSession, user: CurrentUser, unread: bool = False) -> list[Notification]:
    """The user's in-app notifications, newest first."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(200)))


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: Id, session: DbSession, user: CurrentUser) -> Notification:
    """Mark one notification read."""
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user.id:
        raise NotFound("Notisen finns inte / notification not found")
    n.read_at = n.read_at or utcnow()
    session.flush()
    return n


@router.get("/dashboard/my-deadlines", response_model=list[DeadlineOut])
def my_deadlines(session: DbSession, user: CurrentUser) -> list[Deadline]:
    """Open and missed deadlines of the cases the user works on (org members: their organisation's)."""
    stmt = select(Deadline).join(Case, Case.id == Deadline.case_id).where(
        visible(user), Deadline.status.in_([DeadlineStatus.OPEN, DeadlineStatus.MISSED, DeadlineStatus.SUSPENDED]))
    if user.role == Role.OFFICER:
        stmt = stmt.where((Case.officer_id == user.id) | (Case.officer_id.is_(None)))
    if user.role == Role.ORG_MEMBER:
        stmt = stmt.where(Deadline.kind.in_(ORG_DEADLINES))
    return list(session.scalars(stmt.order_by(Deadline.due_at).limit(500)))


@router.get("/dashboard/overdue", response_model=list[DepartmentOverdue])
def overdue_per_department(session: DbSession, user: CurrentUser) -> list[DepartmentOverdue]:
    """Open cases and overdue deadlines per department and stage (civil servants: own department)."""
    if user.role not in (Role.OFFICER, Role.APPROVER, Role.REGISTRAR):
        raise Forbidden("Översikten är för förvaltningens personal / for civil servants")
    from service.departments.models import Department

    now = utcnow()
    overdue = (
        select(func.count(Deadline.id)).where(Deadline.case_id == Case.id,
                                              (Deadline.status == DeadlineStatus.MISSED) | ((Deadline.status == DeadlineStatus.OPEN) & (Deadline.due_at < now)))
        .correlate(Case).scalar_subquery()
    )
    rows = session.execute(
        select(Department.id, Department.name, Case.stage, func.count(Case.id), func.coalesce(func.sum(overdue), 0))
        .join(Department, Department.id == Case.department_id)
        .where(visible(user), Case.stage.not_in(list(TERMINAL)))
        .group_by(Department.id, Department.name, Case.stage).order_by(Department.name, Case.stage)
    ).all()
    return [DepartmentOverdue(department_id=d, department=n, stage=s, open_cases=c, overdue_deadlines=o) for d, n, s, c, o in rows]
