"""After commit: an export job's flow run is started (Prefect REST API), once per job."""

from __future__ import annotations

import logging
import os

import httpx
from sqlalchemy.orm import Session

from service.archive.models import ArchiveExport, ExportStatus
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, Handler, RetryLater

log = logging.getLogger(__name__)
DEPLOYMENT = "archive_export/on-demand"


def prefect_api() -> str:
    """The Prefect API: PREFECT_API_URL, else the settings of the Prefect context the outbox runs in (a flow run's)."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
    return (url or "").rstrip("/")


def start_flow_run(export_id: int, api: str | None = None) -> str:
    """Create a run of the archive_export deployment for this job; its id. RetryLater when Prefect cannot be reached."""
    api = (api or prefect_api()).rstrip("/")
    if not api:
        raise RetryLater("PREFECT_API_URL is not set: the export waits for Prefect")
    try:
        with httpx.Client(base_url=api, timeout=10.0) as client:
            r = client.get(f"/deployments/name/{DEPLOYMENT}")
            r.raise_for_status()
            run = client.post(f"/deployments/{r.json()['id']}/create_flow_run",
                              json={"parameters": {"export_id": export_id}, "tags": ["archive-export"]})
            run.raise_for_status()
            return run.json()["id"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise RetryLater(f"could not start the archive_export flow run: {type(exc).__name__}: {exc}") from exc


def archive_export(session: Session, event: OutboxEvent, ctx: Context) -> None:
    """Start the job's flow run unless one was started already (a retried event starts none twice)."""
    export = session.get(ArchiveExport, event.payload["export_id"])
    if export is None or export.flow_run_id or export.status != ExportStatus.REQUESTED:
        return
    export.flow_run_id = start_flow_run(export.id)
    log.info("archive export %s: flow run %s", export.id, export.flow_run_id)


HANDLERS: dict[str, Handler] = {"archive.export": archive_export}
