"""Account administration: admins create, change and deactivate users (API and web share these)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.service import record
from service.auth.models import Role, User
from service.auth.schemas import UserCreate, UserPatch
from service.auth.passwords import check_password
from service.auth.security import hash_password
from service.departments.models import Department
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.organisations.models import Organisation


def _ensure_admin(admin: User) -> None:
    if admin.role != Role.ADMIN:
        raise Forbidden("Din roll får inte utföra detta / Your role may not do this")


def create_user(session: Session, admin: User, data: UserCreate) -> User:
    """Admin creates an account."""
    _ensure_admin(admin)
    if data.role == Role.ORG_MEMBER and not data.organisation_id:
        raise ValidationFailed(errors=[{"field": "organisation_id", "message": "krävs för org_member / required"}])
    if data.role in (Role.OFFICER, Role.APPROVER) and not data.department_id:
        raise ValidationFailed(errors=[{"field": "department_id", "message": "krävs för handläggare/beslutsfattare / required"}])
    org = session.get(Organisation, data.organisation_id) if data.organisation_id else None
    if data.organisation_id and org is None:
        raise ValidationFailed(errors=[{"field": "organisation_id", "message": "Organisationen finns inte / no such organisation"}])
    if data.department_id and session.get(Department, data.department_id) is None:
        raise ValidationFailed(errors=[{"field": "department_id", "message": "Förvaltningen finns inte / no such department"}])
    if data.manager_id and session.get(User, data.manager_id) is None:
        raise ValidationFailed(errors=[{"field": "manager_id", "message": "Ogiltig chef / invalid manager"}])
    # Admins too: an administrator's weak temporary password is the easiest way into every account.
    check_password(data.password, email=data.email, full_name=data.full_name, organisation_name=org.name if org else None)
    if session.scalar(select(User.id).where(User.email == data.email.lower())):
        raise Conflict("E-postadressen används redan / E-mail already in use")
    user = User(
        email=data.email.lower(),
        full_name=data.full_name,
        title=data.title,
        role=data.role,
        password_hash=hash_password(data.password),
        organisation_id=data.organisation_id,
        department_id=data.department_id,
        delegated_limit_sek=data.delegated_limit_sek,
        delegation_reference=data.delegation_reference,
        manager_id=data.manager_id,
    )
    session.add(user)
    session.flush()
    # The e-mail address stays in the users row; the append-only chain keeps no personal data (as for self-registration).
    record(session, actor=admin, action="user.created", stream=f"user:{user.id}",
           after={"user_id": user.id, "role": user.role, "organisation_id": user.organisation_id, "department_id": user.department_id})
    return user


def update_user(session: Session, admin: User, user_id: int, data: UserPatch) -> User:
    """Admin changes role, department, delegation or deactivates an account (effective on its next request)."""
    _ensure_admin(admin)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Användaren finns inte / user not found")
    changes = data.model_dump(exclude_unset=True)
    if user.id == admin.id and (changes.get("is_active") is False or changes.get("role", Role.ADMIN) != Role.ADMIN):
        raise Conflict("Du kan inte spärra eller byta roll på ditt eget konto / you cannot deactivate or demote yourself")
    role = changes.get("role", user.role)
    if (role == Role.ORG_MEMBER) != (user.role == Role.ORG_MEMBER):
        raise ValidationFailed(errors=[{"field": "role", "message": "Organisationskonton och förvaltningens konton kan inte bytas mot "
                                                                    "varandra; skapa ett nytt konto / create a new account instead"}])
    department_id = changes.get("department_id", user.department_id)
    if role in (Role.OFFICER, Role.APPROVER) and not department_id:
        raise ValidationFailed(errors=[{"field": "department_id", "message": "krävs för handläggare/beslutsfattare / required"}])
    if "department_id" in changes and changes["department_id"] and session.get(Department, changes["department_id"]) is None:
        raise ValidationFailed(errors=[{"field": "department_id", "message": "Förvaltningen finns inte / no such department"}])
    if changes.get("manager_id") is not None and (changes["manager_id"] == user.id or session.get(User, changes["manager_id"]) is None):
        raise ValidationFailed(errors=[{"field": "manager_id", "message": "Ogiltig chef / invalid manager"}])
    before = {k: getattr(user, k) for k in changes if k not in ("full_name", "title")}
    if "is_active" in changes and changes["is_active"] != user.is_active:
        # A reactivated account starts afresh: tokens and sessions from before the deactivation stay refused.
        user.token_generation += 1
    for k, v in changes.items():
        setattr(user, k, v)
    session.flush()
    # Names and titles stay in the users row; the append-only chain records which fields changed.
    record(session, actor=admin, action="user.updated", stream=f"user:{user.id}", before=before,
           after={**{k: getattr(user, k) for k in before}, "changed": sorted(changes)})
    return user
