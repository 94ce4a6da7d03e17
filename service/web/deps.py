"""Dependencies of the pages: the logged-in user and a CSRF-checked form."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.auth.models import Role, User
from service.config import get_settings
from service.deps import AppSettings, DbSession
from service.errors import Forbidden
from service.web.rendering import WebRoute
from service.web.session import CSRF_FIELD, LoginRequired, current_web_user, verify_csrf


def web_router() -> APIRouter:
    """A router whose routes render pages (kept out of the OpenAPI schema)."""
    return APIRouter(route_class=WebRoute, include_in_schema=False)


def optional_user(request: Request, session: DbSession, settings: AppSettings) -> User | None:
    """The session's user, or None on public pages."""
    return current_web_user(request, session, settings)


def required_user(request: Request, session: DbSession, settings: AppSettings) -> User:
    """The session's user; otherwise back to the login page, remembering where the user was going."""
    user = current_web_user(request, session, settings)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/")
    return user


async def csrf_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form, after the CSRF check; uploaded temp files are closed afterwards."""
    form = await request.form(max_files=5, max_fields=500)
    try:
        token = form.get(CSRF_FIELD)
        verify_csrf(request, token if isinstance(token, str) else None, get_settings())
        yield form
    finally:
        await form.close()


WebUser = Annotated[User, Depends(required_user)]
MaybeUser = Annotated[User | None, Depends(optional_user)]
CsrfForm = Annotated[FormData, Depends(csrf_form)]


def require_role(user: User, *roles: Role) -> None:
    """403 page unless the user has one of the roles."""
    if user.role not in roles:
        raise Forbidden("Sidan är inte tillgänglig för din roll / not available for your role")


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """Run a service call in a savepoint so a refused change leaves nothing behind when the form is re-shown."""
    with session.begin_nested():
        yield


def text(form: FormData, name: str) -> str:
    """A text field's value ('' when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    """A text field's value, None when blank."""
    return text(form, name) or None


def digits(raw: str) -> bool:
    """Plain ASCII digits only: str.isdigit() also accepts '²' and other characters int() refuses (a 500)."""
    return raw.isascii() and raw.isdigit()


def whole(form: FormData, name: str) -> int | None:
    """A whole-number field (an id or a version); None when blank or not plain digits."""
    raw = text(form, name)
    return int(raw) if digits(raw) else None


def amount(form: FormData, name: str) -> str | int:
    """Whole kronor, tolerating spaces as thousands separators; unparseable input is passed on for validation."""
    raw = text(form, name).replace(" ", "").replace("\u00a0", "").removesuffix("kr").strip()
    if raw == "":
        return 0
    return int(raw) if digits(raw) else raw
