"""Organisation and contact person models."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, utcnow


class LegalForm(StrEnum):
    """Legal forms an idéburen organisation can have."""

    IDEELL_FORENING = "ideell_forening"
    STIFTELSE = "stiftelse"
    EKONOMISK_FORENING = "ekonomisk_forening"
    TROSSAMFUND = "registrerat_trossamfund"
    AKTIEBOLAG_ALLMANNYTTIGT = "aktiebolag_allmannyttigt"
    ANNAN = "annan"


class Organisation(Base):
    """An idéburen organisation, identified by its organisationsnummer."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    orgnr: Mapped[str] = mapped_column(String(11), unique=True)
    legal_form: Mapped[LegalForm] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(Text, default="")
    street_address: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    kammarkollegiet_registered_on: Mapped[date | None]
    joined_overenskommelse_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A self-registered organisation is unverified until an officer confirms it; its cases cannot be submitted before.
    verified_at: Mapped[datetime | None]
    # use_alter: users.organisation_id points the other way, so the two tables reference each other.
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[ContactPerson]] = relationship(
        back_populates="organisation", order_by="ContactPerson.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class ContactPerson(Base):
    """A named contact of an organisation (personal data; erasable)."""

    __tablename__ = "contact_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str | None] = mapped_column(String(120))
    erased_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")


class OrganisationInvitation(Base):
    """An e-mail address invited into an organisation: the first single sign-on login with that verified address joins it."""

    __tablename__ = "organisation_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
