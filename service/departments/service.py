"""Department settings: the deadline policy (shared by the API and the administrator's page)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.audit.service import digest, record
from service.auth.models import User
from service.deadlines.policy import DEFAULTS
from service.departments.models import Department
from service.departments.schemas import DeadlinePolicyIn
from service.errors import NotFound, ValidationFailed


def get_department(session: Session, department_id: int) -> Department:
    """A department, or 404."""
    dep = session.get(Department, department_id)
    if dep is None:
        raise NotFound("Förvaltningen finns inte / department not found")
    return dep


def set_deadline_policy(session: Session, admin: User, dep: Department, data: DeadlinePolicyIn) -> None:
    """Replace the department's overrides (422 with errors per field); deadlines created from now on use them."""
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
