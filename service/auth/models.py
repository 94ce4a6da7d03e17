"""User accounts and roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class Role(StrEnum):
    """The five roles of the SPEC's role table."""

    ORG_MEMBER = "org_member"
    OFFICER = "officer"
    APPROVER = "approver"
    REGISTRAR = "registrar"
    ADMIN = "admin"


class User(Base):
    """A person who logs in; org members belong to an organisation, civil servants to a department."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    delegated_limit_sek: Mapped[int | None] = mapped_column(BigInteger)
    # The point in the delegationsordning this approver decides under, printed on decisions.
    delegation_reference: Mapped[str | None] = mapped_column(String(200))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Raised when the password changes or the account is reactivated: every token carries the number it was
    # issued under, so older API tokens and web sessions stop working at once.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A self-registered account logs in once its owner has followed the e-mailed link (or reset the password):
    # until then anyone could have typed the address. Accounts made by administrators count as confirmed.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(default=utcnow)

    @property
    def is_civil_servant(self) -> bool:
        """Officers and approvers work inside a department."""
        return self.role in (Role.OFFICER, Role.APPROVER)


class TokenPurpose(StrEnum):
    """What an e-mailed account token is for."""

    PASSWORD_RESET = "password_reset"
    CONFIRM_EMAIL = "confirm_email"


class AccountToken(Base):
    """An e-mailed link's token (password reset, e-mail confirmation): single use, expiring; only its SHA-256 is kept."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(String(20))
    # Set when the e-mail is sent (the outbox handler draws the token), so the token itself is stored nowhere.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RateLimitEvent(Base):
    """One counted attempt (a failed login, a registration, a reset request) under its key, shared by every API process."""

    __tablename__ = "rate_limit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime]

    __table_args__ = (Index("ix_rate_limit_events_key_at", "key", "at"), Index("ix_rate_limit_events_at", "at"))
