"""Auth and user schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from service.auth.models import Role
from service.schemas import Id, NoControlChars, ORMModel, refuse_null, Sek, ShortText


# Same bounds wherever a password is set; the upper one keeps one argon2 hash from costing seconds.
NewPassword = Annotated[str, Field(min_length=10, max_length=256, description="Minst 10 tecken, svår att gissa / at least 10 characters, hard to guess")]


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
    delegation_reference: str | None = None
    is_active: bool = True


class UserPatch(BaseModel):
    """Admin changes an account: role and department when someone changes job, delegation, deactivation."""

    model_config = ConfigDict(extra="forbid")
    full_name: ShortText | None = None
    title: Annotated[str, Field(max_length=120), NoControlChars] | None = None
    role: Role | None = None
    department_id: Id | None = None
    delegated_limit_sek: Sek | None = None
    # The point in the delegationsordning, printed on the approver's decisions ("Socialnämndens delegationsordning, punkt 3.4").
    delegation_reference: Annotated[str, Field(max_length=200), NoControlChars] | None = None
    manager_id: Id | None = None
    is_active: bool | None = None

    # Title, department, delegation and manager may be cleared with null; these cannot.
    _not_null = refuse_null("full_name", "role", "is_active")


class UserCreate(BaseModel):
    """Admin creates a user."""

    email: EmailStr
    full_name: ShortText
    title: Annotated[str, Field(max_length=120), NoControlChars] | None = None
    role: Role
    password: NewPassword
    organisation_id: Id | None = None
    department_id: Id | None = None
    delegated_limit_sek: Sek | None = None
    delegation_reference: Annotated[str, Field(max_length=200), NoControlChars] | None = None
    manager_id: Id | None = None



class PasswordChange(BaseModel):
    """The logged-in user replaces their password."""

    model_config = ConfigDict(extra="forbid")
    current_password: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: NewPassword


class PasswordResetRequest(BaseModel):
    """Ask for a reset link by e-mail."""

    model_config = ConfigDict(extra="forbid")
    email: EmailStr


class PasswordResetConfirm(BaseModel):
    """Set a new password with the token from the e-mailed link."""

    model_config = ConfigDict(extra="forbid")
    token: Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
    new_password: NewPassword


class Accepted(BaseModel):
    """The request was taken; what happens next is said by e-mail (the answer is the same whatever the address)."""

    detail: str


class EmailConfirm(BaseModel):
    """Confirm a self-registered account's e-mail address with the token from the welcome e-mail's link."""

    model_config = ConfigDict(extra="forbid")
    token: Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
