"""Export jobs: a registrar's request for the SIPs of closed cases, and one package per case in object storage."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class ExportStatus(StrEnum):
    """An export job: requested (waiting for its flow run), running, done (every package written) or failed (one or more not)."""

    REQUESTED = "requested"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ItemStatus(StrEnum):
    """One case's package: pending, done (in storage) or failed (the error says why)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class ArchiveExport(Base):
    """A registrar's export of closed cases to the e-archive."""

    __tablename__ = "archive_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default=ExportStatus.REQUESTED)
    # "All closed in a period": the period asked for (the cases are fixed when the export is requested).
    closed_from: Mapped[date | None] = mapped_column(Date)
    closed_to: Mapped[date | None] = mapped_column(Date)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ArchiveExportItem(Base):
    """One case of an export and its package: the object key, version, size and sha256 of the zip once written."""

    __tablename__ = "archive_export_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("archive_exports.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    status: Mapped[str] = mapped_column(String(12), default=ItemStatus.PENDING)
    objid: Mapped[str | None] = mapped_column(String(64))
    object_key: Mapped[str | None] = mapped_column(String(500))
    object_version_id: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    files: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("export_id", "case_id", name="uq_archive_export_items_export_case"),)
