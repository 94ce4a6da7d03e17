"""Shared FastAPI dependencies: the request session and the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.auth.security import decode_token
from service.config import Settings, get_settings
from service.db import session_scope
from service.errors import Forbidden, Unauthorized

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# scope="function": commit happens when the handler returns, before the response is sent,
# so a failed commit becomes an error response instead of a lie.
DbSession = Annotated[Session, Depends(session_scope, scope="function")]


async def app_settings() -> Settings:
    """The settings (async: a plain `def` dependency would cost a thread-pool hop per request)."""
    return get_settings()


AppSettings = Annotated[Settings, Depends(app_settings)]


def current_user(session: DbSession, settings: AppSettings, token: Annotated[str | None, Depends(oauth2)]) -> User:
    """The authenticated, active user."""
    if not token:
        raise Unauthorized()
    user = session.get(User, decode_token(token, settings))
    if user is None or not user.is_active:
        raise Unauthorized("Kontot finns inte eller är spärrat / Account missing or disabled")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role):  # noqa: ANN201
    """Dependency factory: the current user must have one of the roles."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden("Din roll får inte utföra detta / Your role may not do this")
        return user

    return check
