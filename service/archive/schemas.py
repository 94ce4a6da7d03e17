"""E-archive export payloads."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from service.schemas import Id


class ExportRequest(BaseModel):
    """Either the cases to export, or every case closed in a period (both dates, in the municipality's calendar)."""

    model_config = ConfigDict(extra="forbid")

    case_ids: list[Id] | None = Field(default=None, max_length=500)
    closed_from: date | None = None
    closed_to: date | None = None


class PackageOut(BaseModel):
    """One case's package: its status, and once written its object key, size and sha256 (the download link)."""

    id: int
    case_id: int
    diarienummer: str | None
    title: str
    status: str
    objid: str | None
    object_key: str | None
    size: int | None
    sha256: str | None
    files: int | None
    error: str | None
    finished_at: datetime | None
    download_url: str | None


class ExportOut(BaseModel):
    """An export job and its packages."""

    id: int
    status: str
    requested_by_id: int
    requested_at: datetime
    closed_from: date | None
    closed_to: date | None
    flow_run_id: str | None
    started_at: datetime | None
    finished_at: datetime | None
    packages: list[PackageOut]
