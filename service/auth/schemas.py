"""Auth and user schemas."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr

from service.auth.models import Role
from service.schemas import ORMModel


class Token(BaseModel):
    """OAuth2 token response."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(ORMModel):
    """A user as shown to others."""

    id: int
    email: str
    full_name: str
    title: str | None
    role: Role
    organisation_id: int | None
    department_id: int | None
    delegated_limit_sek: int | None


class UserCreate(BaseModel):
    """Admin creates a user."""

    email: EmailStr
    full_name: str
    title: str | None = None
    role: Role
    password: str
    organisation_id: int | None = None
    department_id: int | None = None
    delegated_limit_sek: int | None = None
    manager_id: int | None = None
