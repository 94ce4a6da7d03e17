"""Departments: list for everyone, create for admins."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator
from sqlalchemy import select

from service.audit.service import digest, record
from service.auth.models import Role, User
from service.deps import CurrentUser, DbSession, require_roles
from service.deadlines.models import DeadlineKind
from service.deadlines.policy import DEFAULTS, policy_for
from service.departments.models import Department
from service.errors import Conflict, NotFound, ValidationFailed
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


class Offset(BaseModel):
    """A span in calendar days or Swedish working days (exactly one of them)."""

    model_config = ConfigDict(extra="forbid")
    days: int | None = Field(default=None, ge=-365, le=730)
    working_days: int | None = Field(default=None, ge=-60, le=120)

    @model_validator(mode="after")
    def _one(self) -> Offset:
        if (self.days is None) == (self.working_days is None):
            raise ValueError("ange antingen days eller working_days / give either days or working_days")
        return self

    @property
    def value(self) -> int:
        """The signed number of days, whichever unit."""
        return self.days if self.days is not None else self.working_days  # type: ignore[return-value]

    def dump(self) -> dict[str, int]:
        """As stored in the policy."""
        return self.model_dump(exclude_none=True)


class KindPolicy(BaseModel):
    """Overrides for one deadline kind; a field left out keeps the SPEC's default."""

    model_config = ConfigDict(extra="forbid")
    due: Offset | None = Field(default=None, description="Tid från start till frist (bara för frister som räknas från en händelse)")
    reminders: list[Offset] | None = Field(default=None, max_length=6, description="Påminnelser före (negativt) eller på (0) fristdagen")
    escalation: Literal["officer", "approvers", "manager", "officer+approver"] | None = None
    escalation_delay: Offset | None = None


class DeadlinePolicyIn(BaseModel):
    """A department's deadline overrides per kind and where escalations go."""

    model_config = ConfigDict(extra="forbid")
    kinds: dict[DeadlineKind, KindPolicy] = {}
    escalation_email: EmailStr | None = None


class DeadlinePolicyOut(BaseModel):
    """The effective policy per kind (defaults with the overrides applied) and the overrides themselves."""

    department_id: int
    effective: dict[str, dict[str, Any]]
    overrides: dict[str, dict[str, Any]]
    escalation_email: str | None


def _policy_out(dep: Department) -> DeadlinePolicyOut:
    return DeadlinePolicyOut(department_id=dep.id, overrides=dep.deadline_settings or {}, escalation_email=dep.escalation_email,
                             effective={k.value: policy_for(k, dep.deadline_settings) for k in DeadlineKind})


def _department(session: DbSession, department_id: int) -> Department:
    dep = session.get(Department, department_id)
    if dep is None:
        raise NotFound("Förvaltningen finns inte / department not found")
    return dep


CIVIL_SERVANTS = (Role.OFFICER, Role.APPROVER, Role.REGISTRAR, Role.ADMIN)


@router.get("/departments/{department_id}/deadline-policy", response_model=DeadlinePolicyOut)
def get_deadline_policy(department_id: Id, session: DbSession,
                        _: Annotated[User, Depends(require_roles(*CIVIL_SERVANTS))]) -> DeadlinePolicyOut:
    """The department's deadlines: SPEC defaults with its overrides applied."""
    return _policy_out(_department(session, department_id))


@router.put("/departments/{department_id}/deadline-policy", response_model=DeadlinePolicyOut)
def put_deadline_policy(department_id: Id, data: DeadlinePolicyIn, session: DbSession,
                        admin: Annotated[User, Depends(require_roles(Role.ADMIN))]) -> DeadlinePolicyOut:
    """Replace the department's overrides; deadlines created from now on use them, existing ones keep their dates."""
    dep = _department(session, department_id)
    errors = []
    overrides: dict[str, dict[str, Any]] = {}
    for kind, pol in data.kinds.items():
        where = f"kinds.{kind.value}"
        if pol.due is not None and "due" not in DEFAULTS[kind]:
            errors.append({"field": f"{where}.due", "message": "Fristen följer avtalet eller beslutet och kan inte ändras här / "
                                                               "this deadline follows the agreement and has no fixed span"})
        elif pol.due is not None and pol.due.value <= 0:
            errors.append({"field": f"{where}.due", "message": "Fristen måste vara minst en dag / must be at least one day"})
        for i, r in enumerate(pol.reminders or []):
            if r.value > 0:
                errors.append({"field": f"{where}.reminders.{i}", "message": "Påminnelser går ut före eller på fristdagen / "
                                                                             "reminders are before or on the due day (≤ 0)"})
        if pol.escalation_delay is not None and pol.escalation_delay.value < 0:
            errors.append({"field": f"{where}.escalation_delay", "message": "Kan inte vara negativ / cannot be negative"})
        out: dict[str, Any] = {}
        if pol.due is not None:
            out["due"] = pol.due.dump()
        if pol.reminders is not None:
            out["reminders"] = sorted((r.dump() for r in pol.reminders), key=lambda o: next(iter(o.values())))
        if pol.escalation is not None:
            out["escalation"] = pol.escalation
        if pol.escalation_delay is not None:
            out["escalation_delay"] = pol.escalation_delay.dump()
        if out:
            overrides[kind.value] = out
    if errors:
        raise ValidationFailed("Kontrollera fristerna / check the deadlines", errors=errors)
    # The address may be a person's: the chain keeps only a digest of it.
    before = {"overrides": dep.deadline_settings, "escalation_email_sha256": digest(dep.escalation_email)}
    dep.deadline_settings = overrides or None
    dep.escalation_email = str(data.escalation_email) if data.escalation_email else None
    session.flush()
    record(session, actor=admin, action="department.deadline_policy_changed", stream=f"department:{dep.id}",
           before=before, after={"overrides": overrides, "escalation_email_sha256": digest(dep.escalation_email)})
    return _policy_out(dep)
