"""archive_export: write the SIP of every case of an export job to object storage, in one flow run.

Started by the outbox (service/archive/effects.py) once the registrar's request has committed; each case is its own
transaction in service.archive.service, so a rerun of the same job writes only what is still pending.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.runtime import session_factory
from service.archive import service as archive
from service.documents.service import get_store


@flow(name="archive_export", log_prints=False)
async def archive_export(export_id: int) -> dict:
    """Export the job's closed cases as E-ARK SIPs, one package per case."""
    result = archive.run_export(session_factory(), get_store(), export_id)
    get_run_logger().info("archive export %s: %s", export_id, result)
    return result
