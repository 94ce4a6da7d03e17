"""Departments: list for everyone, create for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, StringConstraints
from sqlalchemy import select

from service.audit.service import record
from service.auth.models import Role, User
from service.deps import CurrentUser, DbSession, require_roles
from service.deadlines.models import DeadlineKind
from service.deadlines.policy import policy_for
from service.departments.models import Department
from service.departments.schemas import DeadlinePolicyIn, DeadlinePolicyOut
from service.departments.service import get_department, set_deadline_policy
from service.errors import Conflict
from service.schemas import Id
from service.organisations.schemas import OrgNr
from service.schemas import ORMModel, ShortText

router = APIRouter(tags=["departments"])


class DepartmentIn(BaseModel):
    """New department."""

    name: ShortText
    diarie_prefix: Annotated[str, StringConstraints(pattern=r"^[A-ZÅÄÖ]{2,6}$")]
    municipality: ShortText = "Exempelstads kommun"
    municipality_orgnr: OrgNr | None = None


class DepartmentOut(ORMModel):
    """A department."""

    id: int
    name: str
    diarie_prefix: str
    municipality: str


@router.get("/departments", response_model=list[DepartmentOut])
def list_departments(session: DbSession, _: CurrentUser) -> list[Department]:
    """All departments (organisations choose one when they apply)."""
    return list(session.scalars(select(Department).order_by(Department.name)))


@router.post("/departments", response_model=DepartmentOut, status_code=201)
def create_department(
    data: DepartmentIn, session: DbSession, admin: Annotated[User, Depends(require_roles(Role.ADMIN))]
) -> Department:
    """Admin adds a department with its diarie prefix."""
    if session.scalar(select(Department.id).where(Department.diarie_prefix == data.diarie_prefix)):
        raise Conflict(f"Prefixet {data.diarie_prefix} används redan / Prefix already in use")
    dep = Department(**data.model_dump())
    session.add(dep)
    session.flush()
    record(session, actor=admin, action="department.created", stream=f"department:{dep.id}", after=data.model_dump())
    return dep


def _policy_out(dep: Department) -> DeadlinePolicyOut:
    return DeadlinePolicyOut(department_id=dep.id, overrides=dep.deadline_settings or {}, escalation_email=dep.escalation_email,
                             effective={k.value: policy_for(k, dep.deadline_settings) for k in DeadlineKind})


CIVIL_SERVANTS = (Role.OFFICER, Role.APPROVER, Role.REGISTRAR, Role.ADMIN)


@router.get("/departments/{department_id}/deadline-policy", response_model=DeadlinePolicyOut)
def get_deadline_policy(department_id: Id, session: DbSession,
                        _: Annotated[User, Depends(require_roles(*CIVIL_SERVANTS))]) -> DeadlinePolicyOut:
    """The department's deadlines: SPEC defaults with its overrides applied."""
    return _policy_out(get_department(session, department_id))


@router.put("/departments/{department_id}/deadline-policy", response_model=DeadlinePolicyOut)
def put_deadline_policy(department_id: Id, data: DeadlinePolicyIn, session: DbSession,
                        admin: Annotated[User, Depends(require_roles(Role.ADMIN))]) -> DeadlinePolicyOut:
    """Replace the department's overrides; deadlines created from now on use them, existing ones keep their dates."""
    dep = get_department(session, department_id)
    set_deadline_policy(session, admin, dep, data)
    return _policy_out(dep)
