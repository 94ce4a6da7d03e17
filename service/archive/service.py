"""E-archive export jobs: a registrar asks, a flow writes one SIP per case to object storage, the registrar downloads.

Contract:
- ``request_export`` (API and web): registrars only (403); either case ids or a closure period, every case closed
  (409 ``case-not-closed`` listing each open one, nothing written), unknown ids 422. Writes the job and its items and
  emits ``archive.export`` in the request's transaction; the outbox handler (effects.py) starts the ``archive_export``
  flow run once that has committed.
- ``run_export`` (the flow): each case in its own transaction (``export_item``): ``sip.build_sip``, the zip put under
  ``exports/<export id>/<OBJID>.zip`` (outside the prefixes the orphan sweep owns), the item's key, version, size and
  sha256 recorded. A case that fails is marked failed with the reason and the others go on; the job ends done or failed.
- ``open_package``: the stored zip, checked against the recorded sha256 (a changed or missing object is an error).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.archive import sip
from service.archive.models import ArchiveExport, ArchiveExportItem, ExportStatus, ItemStatus
from service.audit.service import record
from service.auth.models import Role, User
from service.cases.closure import closures
from service.cases.models import Case
from service.cases.stages import SWEDISH as STAGE_NAMES, TERMINAL
from service.config import Settings, get_settings
from service.db import utcnow
from service.documents.service import UNAVAILABLE
from service.errors import AppError, Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from service.outbox.service import emit
from service.schemas import MAX_ID
from storage.base import ContentMismatch, ObjectNotFound, ObjectStore, StorageError, StorageUnavailable, open_verified

log = logging.getLogger(__name__)
MAX_CASES = 500
EXPORT_PREFIX = "exports/"
ZIP = "application/zip"
AUDIT_STREAM = "archive-exports"


def ensure_registrar(user: User) -> None:
    """The e-archive export is the registrar's."""
    if user.role != Role.REGISTRAR:
        raise Forbidden("Endast registratorn lämnar ärenden till e-arkivet / only the registrar exports to the e-archive")


def _closed_in(session: Session, closed_from: date, closed_to: date, settings: Settings) -> list[Case]:
    """Cases in a terminal stage whose last entry into it falls in the period (the municipality's dates)."""
    closed = closures()
    tz = ZoneInfo(settings.timezone)
    start = datetime.combine(closed_from, datetime.min.time(), tz)
    end = datetime.combine(closed_to + timedelta(days=1), datetime.min.time(), tz)
    return list(session.scalars(select(Case).join(closed, closed.c.case_id == Case.id)
                                .where(closed.c.closed_at >= start, closed.c.closed_at < end).order_by(Case.id)))


def request_export(session: Session, user: User, *, case_ids: list[int] | None = None, closed_from: date | None = None,
                   closed_to: date | None = None, settings: Settings | None = None) -> ArchiveExport:
    """Check and record an export of closed cases (see the contract); the flow starts after commit."""
    ensure_registrar(user)
    settings = settings or get_settings()
    by_ids = case_ids is not None and len(case_ids) > 0
    by_period = closed_from is not None or closed_to is not None
    if by_ids == by_period:
        raise ValidationFailed(errors=[{"field": "case_ids", "message": "Ange ärenden eller en period, inte båda / give case ids or a period, not both"}])
    if by_period:
        if closed_from is None or closed_to is None:
            raise ValidationFailed(errors=[{"field": "closed_from" if closed_from is None else "closed_to",
                                            "message": "Perioden behöver start- och slutdatum / the period needs both dates"}])
        if closed_from > closed_to:
            raise ValidationFailed(errors=[{"field": "closed_to", "message": "Slutdatum före startdatum / 'closed_to' is before 'closed_from'"}])
        cases = _closed_in(session, closed_from, closed_to, settings)
        if not cases:
            raise ValidationFailed(errors=[{"field": "closed_from", "message": "Inga avslutade ärenden under perioden / no cases closed in the period"}])
    else:
        ids = list(dict.fromkeys(case_ids))
        if len(ids) > MAX_CASES:
            raise ValidationFailed(errors=[{"field": "case_ids", "message": f"Högst {MAX_CASES} ärenden per uttag / at most {MAX_CASES} cases"}])
        found = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_([i for i in ids if 0 < i <= MAX_ID])))}
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise ValidationFailed(errors=[{"field": "case_ids", "message": f"Ärendet finns inte / no such case: {i}", "case_id": i} for i in unknown])
        cases = [found[i] for i in ids]
        still_open = [c for c in cases if c.stage not in TERMINAL]
        if still_open:
            raise sip.CaseNotClosed(
                f"{len(still_open)} av ärendena är inte avslutade; bara avslutade ärenden lämnas till e-arkivet / "
                f"{len(still_open)} of the cases are not closed; only closed cases go to the e-archive",
                errors=[{"field": "case_ids", "case_id": c.id, "diarienummer": c.diarienummer, "stage": c.stage,
                         "message": f"{c.diarienummer or c.id}: {STAGE_NAMES[c.stage]}"} for c in still_open])
    export = ArchiveExport(requested_by_id=user.id, status=ExportStatus.REQUESTED, closed_from=closed_from, closed_to=closed_to)
    session.add(export)
    session.flush()
    session.add_all([ArchiveExportItem(export_id=export.id, case_id=c.id, status=ItemStatus.PENDING) for c in cases])
    session.flush()
    record(session, actor=user, action="archive.export_requested", stream=AUDIT_STREAM,
           after={"export_id": export.id, "case_ids": [c.id for c in cases],
                  "closed_from": closed_from.isoformat() if closed_from else None, "closed_to": closed_to.isoformat() if closed_to else None})
    emit(session, "archive.export", {"export_id": export.id})
    return export


def get_export(session: Session, user: User, export_id: int) -> ArchiveExport:
    """An export job, for registrars (404 when there is none)."""
    ensure_registrar(user)
    export = session.get(ArchiveExport, export_id) if 0 < export_id <= MAX_ID else None
    if export is None:
        raise NotFound("Uttaget finns inte / export not found")
    return export


def list_exports(session: Session, user: User, limit: int = 50) -> list[ArchiveExport]:
    """The latest export jobs, newest first."""
    ensure_registrar(user)
    return list(session.scalars(select(ArchiveExport).order_by(ArchiveExport.id.desc()).limit(limit)))


def items(session: Session, export: ArchiveExport) -> list[tuple[ArchiveExportItem, Case]]:
    """The export's cases with their packages, in the order asked."""
    return list(session.execute(select(ArchiveExportItem, Case).join(Case, Case.id == ArchiveExportItem.case_id)
                                .where(ArchiveExportItem.export_id == export.id).order_by(ArchiveExportItem.id)).tuples())


def start(factory: sessionmaker[Session], export_id: int) -> list[int]:
    """Mark the job running; the ids of its items still to write (a rerun picks up what is left)."""
    with factory() as s, s.begin():
        export = s.get(ArchiveExport, export_id)
        if export is None:
            return []
        export.status = ExportStatus.RUNNING
        export.started_at = export.started_at or utcnow()
        return list(s.scalars(select(ArchiveExportItem.id).where(ArchiveExportItem.export_id == export_id,
                                                                 ArchiveExportItem.status == ItemStatus.PENDING)
                              .order_by(ArchiveExportItem.id)))


def export_item(factory: sessionmaker[Session], store: ObjectStore, item_id: int, settings: Settings | None = None) -> str:
    """Write one case's SIP to storage and record it (its own transaction); the item's status afterwards."""
    settings = settings or get_settings()
    try:
        with factory() as s, s.begin():
            item = s.get(ArchiveExportItem, item_id)
            if item is None or item.status != ItemStatus.PENDING:
                return item.status if item else ItemStatus.FAILED
            export = s.get(ArchiveExport, item.export_id)
            case = s.get(Case, item.case_id)
            submitter = s.get(User, export.requested_by_id)
            with sip.build_sip(s, store, case, settings=settings, submitter=submitter) as package:
                key = f"{EXPORT_PREFIX}{export.id}/{package.name}"
                with package.open() as fh:
                    obj = store.put(key, fh, length=package.size, content_type=ZIP,
                                    metadata={"case-id": str(case.id), "export-id": str(export.id), "objid": package.objid})
                if obj.sha256 != package.sha256:
                    raise StorageError(f"storage recorded sha256 {obj.sha256} for a package of {package.sha256}")
                item.objid, item.object_key, item.object_version_id = package.objid, key, obj.version_id
                item.size, item.sha256, item.files = package.size, package.sha256, len(package.files)
            item.status, item.finished_at = ItemStatus.DONE, utcnow()
        return ItemStatus.DONE
    except (AppError, StorageError) as exc:
        # The case's package is not written (or its row not committed: an object left behind is never referenced).
        with factory() as s, s.begin():
            failed = s.get(ArchiveExportItem, item_id)
            failed.status, failed.finished_at = ItemStatus.FAILED, utcnow()
            failed.error = (getattr(exc, "detail", None) or str(exc))[:2000]
        log.warning("archive export item %s failed: %s", item_id, exc)
        return ItemStatus.FAILED


def finish(factory: sessionmaker[Session], export_id: int) -> dict[str, int | str]:
    """Close the job: done when every package is written, failed otherwise; the counts."""
    with factory() as s, s.begin():
        export = s.get(ArchiveExport, export_id)
        counts = dict(s.execute(select(ArchiveExportItem.status, func.count()).where(ArchiveExportItem.export_id == export_id)
                                .group_by(ArchiveExportItem.status)).tuples().all())
        done, failed, pending = (counts.get(k, 0) for k in (ItemStatus.DONE, ItemStatus.FAILED, ItemStatus.PENDING))
        if pending == 0:
            export.status = ExportStatus.DONE if failed == 0 else ExportStatus.FAILED
            export.finished_at = utcnow()
        record(s, actor=None, action="archive.export_finished", stream=AUDIT_STREAM,
               after={"export_id": export_id, "done": done, "failed": failed, "pending": pending})
        return {"status": export.status, "done": done, "failed": failed, "pending": pending}


def run_export(factory: sessionmaker[Session], store: ObjectStore, export_id: int, settings: Settings | None = None) -> dict[str, int | str]:
    """Write every pending package of the job, case by case, and close it."""
    for item_id in start(factory, export_id):
        export_item(factory, store, item_id, settings)
    return finish(factory, export_id)


def get_item(session: Session, export: ArchiveExport, item_id: int) -> ArchiveExportItem:
    """A package of this export (404 otherwise)."""
    item = session.get(ArchiveExportItem, item_id) if 0 < item_id <= MAX_ID else None
    if item is None or item.export_id != export.id:
        raise NotFound("Paketet finns inte / package not found")
    return item


class PackageNotReady(AppError):
    """The package is not written (yet, or it failed)."""

    status_code = 409
    code = "package-not-ready"
    title = "Paketet är inte klart / The package is not ready"


def open_package(store: ObjectStore, item: ArchiveExportItem) -> Iterator[bytes]:
    """The stored zip in chunks, the recorded version checked against the recorded sha256 before the first byte."""
    if item.status != ItemStatus.DONE or not item.object_key:
        raise PackageNotReady("Paketet är inte skrivet ännu / the package is not written yet", package_status=item.status, error=item.error)
    try:
        try:
            recorded = store.stat(item.object_key, item.object_version_id).sha256
        except ObjectNotFound:
            recorded = None  # a restored bucket: open_verified finds the version with the recorded sha256
        if recorded is not None and recorded != item.sha256:
            raise ContentMismatch(f"{item.object_key}@{item.object_version_id} has sha256 {recorded}, the export recorded {item.sha256}")
        it, _ = open_verified(store, item.object_key, item.object_version_id, item.sha256)
        first = next(it, b"")
    except StorageUnavailable as exc:
        raise ServiceUnavailable(UNAVAILABLE, retry_after=30) from exc
    except (ObjectNotFound, ContentMismatch) as exc:
        raise PackageNotReady("Paketet finns inte längre i lagringen; gör ett nytt uttag / the package is gone from storage: "
                              "export again") from exc

    def gen() -> Iterator[bytes]:
        yield first
        yield from it

    return gen()
