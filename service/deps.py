"""Shared FastAPI dependencies: the request session, the reader and the current user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.auth.security import REVOKED, TokenSubject, decode_token
from service.config import Settings, get_settings
from service.db import session_scope
from service.errors import Forbidden, Unauthorized
from service.reads import Reader, read_scope

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# scope="function": commit happens when the handler returns, before the response is sent,
# so a failed commit becomes an error response instead of a lie.
DbSession = Annotated[Session, Depends(session_scope, scope="function")]


async def app_settings() -> Settings:
    """The settings (async: a plain `def` dependency would cost a thread-pool hop per request)."""
    return get_settings()


AppSettings = Annotated[Settings, Depends(app_settings)]


# Read-only endpoints on the hot path query through this instead of DbSession (service/reads.py).
Reads = Annotated[Reader, Depends(read_scope)]

ACCOUNT_GONE = "Kontot finns inte eller är spärrat / Account missing or disabled"


async def bearer(settings: AppSettings, token: Annotated[str | None, Depends(oauth2)]) -> TokenSubject:
    """Whom a valid bearer token names (the account and its token generation are checked by the caller's query): the
    service's own token, or an access token of a single sign-on provider (service.auth.oidc.bearer)."""
    if not token:
        raise Unauthorized()
    if settings.oidc_providers:
        from service.auth.oidc import bearer as sso

        if sso.is_foreign(token, settings):
            return await run_in_threadpool(sso.subject, token, settings)
    return decode_token(token, settings)


Bearer = Annotated[TokenSubject, Depends(bearer)]


async def token_user_id(subject: Bearer) -> int:
    """The user id of a valid bearer token: the signature only (bench layers); requests use Bearer or CurrentUser."""
    return subject.user_id


TokenUserId = Annotated[int, Depends(token_user_id)]


def current_user(session: DbSession, token: Bearer) -> User:
    """The authenticated, active user, by a token of the account's current generation."""
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise Unauthorized(ACCOUNT_GONE)
    if user.token_generation != token.generation:
        raise Unauthorized(REVOKED)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@dataclass(frozen=True, slots=True)
class Principal:
    """The asking user as a read query returns it: what the visibility rules need, no ORM object."""

    id: int
    role: Role
    organisation_id: int | None
    department_id: int | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | None, token: TokenSubject | None = None, prefix: str = "reader_") -> Principal:
        """The reader's columns of a row; 401 when the account is missing or disabled or the token revoked, as current_user.

        `token` is the bearer token the row was read for; None only where no token is involved (tests comparing reads).
        """
        if row is None or row[f"{prefix}id"] is None or not row[f"{prefix}is_active"]:
            raise Unauthorized(ACCOUNT_GONE)
        if token is not None and row[f"{prefix}token_generation"] != token.generation:
            raise Unauthorized(REVOKED)
        return cls(row[f"{prefix}id"], Role(row[f"{prefix}role"]), row[f"{prefix}organisation_id"], row[f"{prefix}department_id"])


def require_roles(*roles: Role):  # noqa: ANN201
    """Dependency factory: the current user must have one of the roles."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden("Din roll får inte utföra detta / Your role may not do this")
        return user

    return check
