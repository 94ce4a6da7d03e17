"""Login (OAuth2 password flow), current user, user administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from service.auth.models import Role, User
from service.auth import users
from service.auth.login import authenticate
from service.auth.ratelimit import AttemptLimiter, LoginLimiter, get_login_limiter, get_register_limiter
from service.auth.schemas import Token, UserCreate, UserOut, UserPatch
from service.auth.security import create_token
from service.deps import AppSettings, CurrentUser, DbSession, require_roles
from service.organisations import service as organisations
from service.organisations.schemas import OrganisationOut, RegistrationIn, RegistrationOut
from service.schemas import Id

router = APIRouter(tags=["auth"])

@router.post("/auth/token", response_model=Token)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: DbSession, settings: AppSettings,
    limiter: Annotated[LoginLimiter, Depends(get_login_limiter)],
) -> Token:
    """Exchange e-mail + password for a bearer token (429 after repeated failures)."""
    user = authenticate(session, limiter, form.username, form.password, request.client.host if request.client else None)
    token, lifetime = create_token(user.id, user.role, settings)
    return Token(access_token=token, expires_in=lifetime)


@router.post("/auth/register", response_model=RegistrationOut, status_code=201)
def register(data: RegistrationIn, request: Request, session: DbSession, settings: AppSettings,
             limiter: Annotated[AttemptLimiter, Depends(get_register_limiter)]) -> RegistrationOut:
    """Self-registration (no login): an organisation member's account and their organisation, in one transaction
    (429 with Retry-After after too many registrations from one address)."""
    # Before any work (argon2, queries); payloads refused by validation never get here and cost little.
    limiter.hit(request.client.host if request.client else None)
    user, org = organisations.self_register(session, data)
    token, lifetime = create_token(user.id, user.role, settings)
    return RegistrationOut(access_token=token, expires_in=lifetime, user=UserOut.model_validate(user),
                           organisation=OrganisationOut.model_validate(org))


@router.get("/auth/me", response_model=UserOut)
def me(user: CurrentUser) -> User:
    """The logged-in user."""
    return user


@router.get("/users", response_model=list[UserOut])
def list_users(
    session: DbSession, user: CurrentUser, role: Role | None = None, department_id: Id | None = None
) -> list[User]:
    """Civil servants and admins list users (to pick officers and approvers)."""
    if user.role == Role.ORG_MEMBER:
        stmt = select(User).where(User.organisation_id == user.organisation_id)
    else:
        stmt = select(User).where(User.role != Role.ORG_MEMBER) if user.role != Role.ADMIN else select(User)
    if role:
        stmt = stmt.where(User.role == role)
    if department_id:
        stmt = stmt.where(User.department_id == department_id)
    return list(session.scalars(stmt.order_by(User.id)))


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(
    data: UserCreate, session: DbSession, admin: Annotated[User, Depends(require_roles(Role.ADMIN))]
) -> User:
    """Admin creates an account."""
    return users.create_user(session, admin, data)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: Id, data: UserPatch, session: DbSession, admin: Annotated[User, Depends(require_roles(Role.ADMIN))]
) -> User:
    """Admin changes role, department, delegation or deactivates an account (effective on its next request)."""
    return users.update_user(session, admin, user_id, data)
