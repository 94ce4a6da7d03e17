"""Who a verified token names: the account of (provider, sub), made on first login from the configured claim mapping.

Staff providers: the first configured group the person carries gives the role, the first configured department group
the department (officers and approvers need one); the provider is the source of both, so they are brought up to date
at every login. Organisation providers: an open invitation of the verified e-mail is required the first time.
Refusals raise TokenRefused with the reason the audit records; nothing is written for a refused person.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.service import record
from service.auth.models import Role, User
from service.auth.oidc.models import UserIdentity
from service.auth.oidc.provider import TokenRefused
from service.auth.security import NO_PASSWORD
from service.config import OidcProvider
from service.db import utcnow
from service.departments.models import Department
from service.organisations import invitations


UNKNOWN_PERSON = "Du har inget konto i tjänsten / you have no account in the service"
NO_ROLE = "Ditt konto ger ingen behörighet i tjänsten / your account gives no access to the service"
LOCKED = "Kontot är spärrat / the account is disabled"


def _groups(claims: dict[str, Any], claim: str) -> list[str]:
    value = claims.get(claim)
    if isinstance(value, str):
        return value.split()
    return [str(v) for v in value] if isinstance(value, list) else []


def staff_mapping(session: Session, config: OidcProvider, groups: list[str]) -> tuple[Role, int | None]:
    """Role and department from the person's groups, as configured; TokenRefused('no_role') without a mapped role."""
    role = next((Role(r) for g, r in config.roles.items() if g in groups), None)
    if role is None:
        raise TokenRefused("no_role", NO_ROLE)
    prefix = next((p for g, p in config.departments.items() if g in groups), None)
    department = session.scalar(select(Department).where(Department.diarie_prefix == prefix)) if prefix else None
    if role in (Role.OFFICER, Role.APPROVER) and department is None:
        raise TokenRefused("no_department", NO_ROLE)
    return role, department.id if department else None


def _identity(session: Session, provider: str, subject: str) -> UserIdentity | None:
    return session.scalar(select(UserIdentity).where(UserIdentity.provider == provider, UserIdentity.subject == subject))


def _link(session: Session, provider: str, subject: str, user: User) -> UserIdentity:
    identity = UserIdentity(user_id=user.id, provider=provider, subject=subject)
    session.add(identity)
    session.flush()
    return identity


def _new_user(session: Session, provider: str, **fields: Any) -> User:
    user = User(password_hash=NO_PASSWORD, email_confirmed_at=utcnow(), **fields)
    session.add(user)
    session.flush()
    # As for every account: ids and structured values only, the e-mail and name stay in the users row.
    record(session, actor=None, action="user.created", stream=f"user:{user.id}",
           after={"user_id": user.id, "role": user.role, "organisation_id": user.organisation_id, "department_id": user.department_id,
                  "provider": provider})
    return user


def _sync_staff(session: Session, provider: str, user: User, role: Role, department_id: int | None) -> None:
    """Bring role and department to what the provider says now (audited when they change)."""
    if user.role == role and (department_id is None or user.department_id == department_id):
        return
    before = {"role": user.role, "department_id": user.department_id}
    user.role = role
    if department_id is not None:
        user.department_id = department_id
    session.flush()
    record(session, actor=None, action="user.updated", stream=f"user:{user.id}", before=before,
           after={"role": user.role, "department_id": user.department_id, "changed": ["department_id", "role"], "provider": provider})


def _verified_email(config: OidcProvider, claims: dict[str, Any]) -> str:
    email = claims.get(config.claims.email)
    if not isinstance(email, str) or "@" not in email:
        raise TokenRefused("no_email", UNKNOWN_PERSON)
    if config.claims.email_verified is not None and claims.get(config.claims.email_verified) is not True:
        raise TokenRefused("email_unverified", UNKNOWN_PERSON)
    return email.strip().lower()


def _name(config: OidcProvider, claims: dict[str, Any], fallback: str) -> str:
    name = claims.get(config.claims.name)
    return name.strip()[:200] if isinstance(name, str) and name.strip() else fallback[:200]


def resolve(session: Session, provider: str, config: OidcProvider, claims: dict[str, Any]) -> tuple[User, UserIdentity]:
    """The active account a verified ID token names (made or linked on first login); TokenRefused otherwise."""
    subject = str(claims["sub"])
    identity = _identity(session, provider, subject)
    if config.kind == "staff":
        role, department_id = staff_mapping(session, config, _groups(claims, config.claims.groups))
        if identity is None:
            email = _verified_email(config, claims)
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                user = _new_user(session, provider, email=email, full_name=_name(config, claims, email), role=role, department_id=department_id)
            elif user.role == Role.ORG_MEMBER:
                raise TokenRefused("account_conflict", UNKNOWN_PERSON)  # an organisation's account never becomes staff
            identity = _link(session, provider, subject, user)
        user = session.get(User, identity.user_id)
        if user.role == Role.ORG_MEMBER:
            raise TokenRefused("account_conflict", UNKNOWN_PERSON)
        if user.is_active:
            _sync_staff(session, provider, user, role, department_id)
    else:
        if identity is None:
            email = _verified_email(config, claims)
            invitation = invitations.open_invitation(session, email)
            if invitation is None:
                raise TokenRefused("not_invited", UNKNOWN_PERSON)
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                user = _new_user(session, provider, email=email, full_name=_name(config, claims, email), role=Role.ORG_MEMBER,
                                 organisation_id=invitation.organisation_id)
            elif user.role != Role.ORG_MEMBER or user.organisation_id not in (None, invitation.organisation_id):
                raise TokenRefused("account_conflict", UNKNOWN_PERSON)
            elif user.organisation_id is None:
                user.organisation_id = invitation.organisation_id
            if user.is_active:
                invitations.accept(session, invitation, user)
            identity = _link(session, provider, subject, user)
        user = session.get(User, identity.user_id)
        if user.role != Role.ORG_MEMBER:
            raise TokenRefused("account_conflict", UNKNOWN_PERSON)
    if not user.is_active:
        raise TokenRefused("inactive", LOCKED)
    identity.last_login_at = utcnow()
    session.flush()
    return user, identity


def service_account(session: Session, provider: str, config: OidcProvider, claims: dict[str, Any]) -> User:
    """The account of an access token's subject: a linked person, or a client-credentials service account whose role
    comes from the token's mapped role claim (made on first use, its role kept up to date)."""
    subject = str(claims["sub"])
    identity = _identity(session, provider, subject)
    if identity is not None:
        user = session.get(User, identity.user_id)
        if user.is_active and user.role != Role.ORG_MEMBER and user.password_hash == NO_PASSWORD and user.email.endswith(".invalid"):
            role, department_id = staff_mapping(session, config, _groups(claims, config.claims.service_roles))
            _sync_staff(session, provider, user, role, department_id)
        return user
    role, department_id = staff_mapping(session, config, _groups(claims, config.claims.service_roles))
    client = str(claims.get("client_id") or claims.get("azp") or subject)
    # A service account has no mailbox: a reserved .invalid address (RFC 2606) keeps the column unique and mails nobody.
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in subject)[:150]
    user = _new_user(session, provider, email=f"{safe}@{provider}.sso.invalid", full_name=f"Tjänstekonto {client}"[:200], role=role,
                     department_id=department_id)
    _link(session, provider, subject, user)
    return user
