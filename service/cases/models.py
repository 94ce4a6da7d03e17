"""Case, stage history and the diarienummer counter."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.auth.models import User
from service.cases.stages import Stage
from service.db import Base, declare_unmodelled_indexes, utcnow
from service.departments.models import Department
from service.organisations.models import Organisation


class Case(Base):
    """An IOP case (ärende); `version` is the optimistic lock exposed as ETag."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    diarienummer: Mapped[str | None] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    need: Mapped[str] = mapped_column(Text, default="")
    target_group: Mapped[str] = mapped_column(Text, default="")
    planned_activities: Mapped[str] = mapped_column(Text, default="")
    own_contribution_sek: Mapped[int] = mapped_column(BigInteger, default=0)
    own_contribution_in_kind: Mapped[str] = mapped_column(Text, default="")
    volunteer_hours: Mapped[int] = mapped_column(Integer, default=0)
    requested_amount_sek: Mapped[int] = mapped_column(BigInteger, default=0)
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    stage: Mapped[Stage] = mapped_column(String(20), default=Stage.DRAFT)
    # Set when an approver requests changes: the organisation may edit until it resubmits.
    open_for_changes: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    close_reason: Mapped[str | None] = mapped_column(Text)
    terminated: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    stage_entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    # List pages filter by department/stage/officer and sort by (created_at, id): each index ends in the sort key so a
    # page is one ordered index range, whatever the number of cases (bench/README.md).
    __table_args__ = (
        Index("ix_cases_department_stage_created", "department_id", "stage", "created_at", "id"),
        Index("ix_cases_department_created", "department_id", "created_at", "id"),
        Index("ix_cases_organisation_created", "organisation_id", "created_at", "id"),
        Index("ix_cases_officer_stage_created", "officer_id", "stage", "created_at", "id"),
        Index("ix_cases_created_id", "created_at", "id"),
        Index("ix_cases_stage_created", "stage", "created_at", "id"),
    )


# PostgreSQL-only trigram (pg_trgm GIN) indexes for the text search q= (migration 0004). Not declared on the
# model: SQLite has no such index, so autogenerate leaves them out by name (service.db.include_in_autogenerate).
# Migration 0004 holds its own copy: a migration does not change with the code.
SEARCH_INDEXES = {"ix_cases_title_trgm": "title", "ix_cases_diarienummer_trgm": "diarienummer"}
declare_unmodelled_indexes(*SEARCH_INDEXES)


class StageChange(Base):
    """When a case entered a stage, by whom and through which review."""

    __tablename__ = "case_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    from_stage: Mapped[Stage | None] = mapped_column(String(20))
    to_stage: Mapped[Stage] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DiarieCounter(Base):
    """Last diarienummer sequence per prefix and year; its row lock makes numbering gap-free."""

    __tablename__ = "diarie_counters"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class CompletionRequest(Base):
    """An officer's own request that the organisation complete the case (an approver's goes through a review decision)."""

    __tablename__ = "completion_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Shown to the organisation; the audit chain keeps only its digest.
    message: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
