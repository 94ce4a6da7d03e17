"""E-archive export endpoints for registrars: request an export, follow it, download the packages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from service.archive import service
from service.archive.models import ArchiveExport
from service.archive.schemas import ExportOut, ExportRequest, PackageOut
from service.deps import AppSettings, CurrentUser, DbSession
from service.documents.service import content_disposition, get_store
from service.idempotency import IdempotencyKey
from service.schemas import Id
from storage.base import ObjectStore

router = APIRouter(tags=["archive"])
Store = Annotated[ObjectStore, Depends(get_store)]
PREFIX = "/api/v1"


def to_out(session: Session, export: ArchiveExport) -> ExportOut:
    """The API shape of a job with its packages."""
    packages = [PackageOut(id=i.id, case_id=c.id, diarienummer=c.diarienummer, title=c.title, status=i.status, objid=i.objid,
                           object_key=i.object_key, size=i.size, sha256=i.sha256, files=i.files, error=i.error, finished_at=i.finished_at,
                           download_url=f"{PREFIX}/archive-exports/{export.id}/packages/{i.id}/content" if i.status == "done" else None)
                for i, c in service.items(session, export)]
    return ExportOut(id=export.id, status=export.status, requested_by_id=export.requested_by_id, requested_at=export.requested_at,
                     closed_from=export.closed_from, closed_to=export.closed_to, flow_run_id=export.flow_run_id,
                     started_at=export.started_at, finished_at=export.finished_at, packages=packages)


@router.post("/archive-exports", response_model=ExportOut, status_code=202)
def request_export(data: ExportRequest, session: DbSession, user: CurrentUser, settings: AppSettings, response: Response,
                   idem: IdempotencyKey) -> object:
    """Export closed cases (ids, or every case closed in a period) as E-ARK SIPs; 409 naming each case still open.

    With an Idempotency-Key a retried request answers with the job it made instead of ordering a second one.
    """

    def create() -> ExportOut:
        export = service.request_export(session, user, case_ids=data.case_ids, closed_from=data.closed_from, closed_to=data.closed_to,
                                        settings=settings)
        response.headers["Location"] = f"{PREFIX}/archive-exports/{export.id}"
        return to_out(session, export)

    return idem.run(session, user.id, data, ExportOut, create, status_code=202)


@router.get("/archive-exports", response_model=list[ExportOut])
def list_exports(session: DbSession, user: CurrentUser) -> list[ExportOut]:
    """The latest 50 export jobs, newest first."""
    return [to_out(session, e) for e in service.list_exports(session, user)]


@router.get("/archive-exports/{export_id}", response_model=ExportOut)
def get_export(export_id: Id, session: DbSession, user: CurrentUser) -> ExportOut:
    """An export job: its status and every case's package (key, size, sha256, download link once written)."""
    return to_out(session, service.get_export(session, user, export_id))


@router.get("/archive-exports/{export_id}/packages/{package_id}/content", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
def download(export_id: Id, package_id: Id, session: DbSession, user: CurrentUser, store: Store) -> StreamingResponse:
    """The package (a zip holding the SIP folder), checked against its recorded sha256; 409 until it is written."""
    export = service.get_export(session, user, export_id)
    item = service.get_item(session, export, package_id)
    body = service.open_package(store, item)
    return StreamingResponse(body, media_type=service.ZIP, headers={
        "Content-Disposition": content_disposition(f"{item.objid}.zip"), "Content-Length": str(item.size), "ETag": f'"{item.sha256}"'})
