"""Login (OAuth2 password flow), self-registration, password change and reset, current user, user administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from service.auth import credentials, users
from service.auth.login import authenticate
from service.auth.models import Role, User
from service.auth.ratelimit import AttemptLimiter, LoginLimiter, client_address, get_login_limiter, get_register_limiter, get_reset_limiter
from service.auth.schemas import Accepted, EmailConfirm, PasswordChange, PasswordResetConfirm, PasswordResetRequest, Token, UserCreate, UserOut, UserPatch
from service.auth.security import create_token
from service.config import Settings
from service.deps import AppSettings, CurrentUser, DbSession, require_roles
from service.organisations import service as organisations
from service.organisations.schemas import RegistrationIn
from service.schemas import Id

router = APIRouter(tags=["auth"])
Login = Annotated[LoginLimiter, Depends(get_login_limiter)]
RESET_REQUESTED = ("Om adressen hör till ett konto har vi skickat en länk för att välja nytt lösenord. / "
                   "If the address belongs to an account, we have sent it a link to choose a new password.")


def _token(user: User, settings: Settings) -> Token:
    token, lifetime = create_token(user.id, user.role, settings, user.token_generation)
    return Token(access_token=token, expires_in=lifetime)


@router.post("/auth/token", response_model=Token)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: DbSession, settings: AppSettings,
          limiter: Login) -> Token:
    """Exchange e-mail + password for a bearer token (429 after repeated failures)."""
    return _token(authenticate(session, limiter, form.username, form.password, client_address(request, settings)), settings)


@router.post("/auth/register", response_model=Accepted, status_code=202)
def register(data: RegistrationIn, request: Request, session: DbSession, settings: AppSettings,
             limiter: Annotated[AttemptLimiter, Depends(get_register_limiter)]) -> Accepted:
    """Self-registration (no login): an organisation member's account and their organisation, unverified until an
    officer confirms it. The answer is the same for a new and a known e-mail (whose owner is e-mailed instead); the new
    account logs in once the e-mailed link is followed (POST /auth/confirm-email). 429 with Retry-After after too many
    registrations from one address."""
    # Before any work (argon2, queries); payloads refused by validation never get here and cost little.
    limiter.hit(client_address(request, settings))
    organisations.self_register(session, data, settings)
    return Accepted(detail=organisations.REGISTERED)


@router.post("/auth/password", response_model=Token)
def change_password(data: PasswordChange, request: Request, session: DbSession, settings: AppSettings, user: CurrentUser,
                    limiter: Login) -> Token:
    """Replace the logged-in user's password: every older token and web session stops working; use the token returned."""
    return _token(credentials.change_password(session, limiter, user, data.current_password, data.new_password,
                                              client_address(request, settings)), settings)


@router.post("/auth/password-reset", response_model=Accepted, status_code=202)
def request_password_reset(data: PasswordResetRequest, request: Request, session: DbSession, settings: AppSettings,
                           limiter: Annotated[AttemptLimiter, Depends(get_reset_limiter)]) -> Accepted:
    """E-mail a single-use, expiring link to choose a new password; the same answer whether or not the address has an account."""
    limiter.hit(client_address(request, settings))
    credentials.request_reset(session, str(data.email), settings)
    return Accepted(detail=RESET_REQUESTED)


@router.post("/auth/password-reset/confirm", status_code=204)
def confirm_password_reset(data: PasswordResetConfirm, session: DbSession) -> Response:
    """Set a new password with the e-mailed token (once, before it expires); every older token and web session stops working."""
    credentials.confirm_reset(session, data.token, data.new_password)
    return Response(status_code=204)


@router.post("/auth/confirm-email", status_code=204)
def confirm_email(data: EmailConfirm, session: DbSession) -> Response:
    """Confirm a self-registered account's e-mail address with the welcome e-mail's token; the account may log in from then on."""
    credentials.confirm_email(session, data.token)
    return Response(status_code=204)


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
