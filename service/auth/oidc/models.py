"""Single sign-on rows: a person's identity at a provider, logins under way, and sessions started through a provider."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class UserIdentity(Base):
    """An account's subject (`sub`) at one provider: found again on every later login, whatever the e-mail says then."""

    __tablename__ = "user_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_user_identities_provider_subject"),)


class OidcLogin(Base):
    """A login sent to a provider and not yet back: its state (only the SHA-256 kept), nonce and PKCE verifier; used once."""

    __tablename__ = "oidc_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(500), default="/")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class OidcSession(Base):
    """A web session started through a provider: ended by logout (here or at the provider) or when its time is up."""

    __tablename__ = "oidc_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    # The provider's session id (`sid` of the ID token), which its back-channel logout names.
    provider_sid: Mapped[str | None] = mapped_column(String(255))
    # Sent back as id_token_hint on logout (RP-initiated logout); removed when the session ends.
    id_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_oidc_sessions_provider_sid", "provider", "provider_sid"),)
