"""Dashboards: my deadlines, overdue per department and stage."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from service.dashboard import service
from service.deadlines.models import Deadline
from service.deadlines.schemas import DeadlineOut
from service.deps import CurrentUser, DbSession

router = APIRouter(tags=["deadlines"])


class DepartmentOverdue(BaseModel):
    """Overdue and open counts per department and stage."""

    model_config = ConfigDict(from_attributes=True)

    department_id: int
    department: str
    stage: str
    open_cases: int
    overdue_deadlines: int


@router.get("/dashboard/my-deadlines", response_model=list[DeadlineOut])
def my_deadlines(session: DbSession, user: CurrentUser) -> list[Deadline]:
    """Open and missed deadlines of the cases the user works on (org members: their organisation's)."""
    return service.my_deadlines(session, user)


@router.get("/dashboard/overdue", response_model=list[DepartmentOverdue])
def overdue_per_department(session: DbSession, user: CurrentUser) -> list[service.StageCount]:
    """Open cases and overdue deadlines per department and stage (civil servants: own department)."""
    return service.overdue_per_department(session, user)
