"""E-archive export as a real Prefect flow run on real S3 (SeaweedFS): the outbox starts the run after commit, the run
writes one SIP per case, eark-validator passes each stored package, and every document's bytes are in it."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from archive_world import build_closed_case
from factories import World, auth, case as make_case
from fixtures.eark import validate
from sqlalchemy import select
from starlette.testclient import TestClient

from service.archive import service as archive
from service.archive.effects import DEPLOYMENT, archive_export as start_handler
from service.archive.models import ArchiveExport, ArchiveExportItem, ExportStatus, ItemStatus
from service.cases.stages import Stage
from service.documents import service as documents
from service.documents.models import Document
from service.outbox.models import OutboxEvent
from service.reads import reader_for


@pytest.fixture
def s3_env(env, seaweed_server, s3_bucket, monkeypatch, app):  # noqa: ANN001, ANN201
    """The flows' database (env) with the configured store on SeaweedFS, and the API committing to the same database."""
    from flows.runtime import outbox_context
    from helpers import committing_sessions, drop_sessions, use_sessions
    from service.config import get_settings
    from service.db import get_engine

    monkeypatch.setenv("IOP_STORAGE_URL", f"s3://{s3_bucket}")
    monkeypatch.setenv("IOP_S3_ENDPOINT", seaweed_server.endpoint)
    monkeypatch.setenv("IOP_S3_ACCESS_KEY", seaweed_server.access_key)
    monkeypatch.setenv("IOP_S3_SECRET_KEY", seaweed_server.secret_key)
    for fn in (get_settings, documents.get_store, outbox_context):
        fn.cache_clear()
    use_sessions(app, committing_sessions(env), reader_for(get_engine()))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield env, client
    drop_sessions(app)
    for fn in (get_settings, documents.get_store, outbox_context):
        fn.cache_clear()


def test_export_flow_writes_a_valid_sip_per_case_to_s3(s3_env) -> None:  # noqa: ANN001
    from flows.archive_export import archive_export

    factory, client = s3_env
    store = documents.get_store()
    assert type(store).__name__ == "S3Store"
    db = factory()
    w = World(db)
    first = build_closed_case(client, db, store, w)
    second = make_case(db, w.org, w.dep, stage=Stage.WITHDRAWN, title="Återkallat förslag")
    db.commit()
    case_ids = [first.case.id, second.id]
    docs = {d.id: d for d in db.scalars(select(Document).where(Document.case_id == first.case.id))}
    db.close()

    r = client.post("/api/v1/archive-exports", json={"case_ids": case_ids}, headers=auth(w.registrar))
    assert r.status_code == 202, r.text
    export_id = r.json()["id"]
    assert r.json()["status"] == "requested" and r.headers["location"].endswith(f"/archive-exports/{export_id}")
    with factory() as s:
        assert s.scalar(select(OutboxEvent).where(OutboxEvent.topic == "archive.export")).payload == {"export_id": export_id}

    result = asyncio.run(archive_export(export_id))
    assert result == {"status": "done", "done": 2, "failed": 0, "pending": 0}
    with factory() as s:
        items = list(s.scalars(select(ArchiveExportItem).where(ArchiveExportItem.export_id == export_id).order_by(ArchiveExportItem.id)))
        assert s.get(ArchiveExport, export_id).status == ExportStatus.DONE
    assert [i.case_id for i in items] == case_ids and all(i.status == ItemStatus.DONE for i in items)
    for item in items:
        assert item.object_key.startswith(f"exports/{export_id}/") and item.object_key.endswith(".zip")
        data = store.get(item.object_key, item.object_version_id)  # the real S3 object
        assert hashlib.sha256(data).hexdigest() == item.sha256 and len(data) == item.size
        # The API hands out the same bytes.
        dl = client.get(f"/api/v1/archive-exports/{export_id}/packages/{item.id}/content", headers=auth(w.registrar))
        assert dl.status_code == 200 and dl.content == data and dl.headers["content-type"] == "application/zip"
        with tempfile.TemporaryDirectory() as tmp:
            zpath = Path(tmp) / "p.zip"
            zpath.write_bytes(data)
            report = validate(zpath)
        assert report["passes"], report["other_errors"]
    with zipfile.ZipFile(io.BytesIO(store.get(items[0].object_key, items[0].object_version_id))) as zf:
        shas = {hashlib.sha256(zf.read(n)).hexdigest() for n in zf.namelist() if "/representations/rep1/data/" in n and not n.endswith("/")}
    assert shas == {d.sha256 for d in docs.values()} and len(docs) >= 6

    # Status answers name every package; a second run of the same job writes nothing twice.
    status = client.get(f"/api/v1/archive-exports/{export_id}", headers=auth(w.registrar)).json()
    assert status["status"] == "done" and [p["sha256"] for p in status["packages"]] == [i.sha256 for i in items]
    assert asyncio.run(archive_export(export_id)) == {"status": "done", "done": 2, "failed": 0, "pending": 0}


def test_outbox_starts_one_flow_run_per_job(s3_env, prefect_server) -> None:  # noqa: ANN001
    """The handler creates a run of the on-demand deployment with the job's id, once: a retried event starts no second."""
    from prefect.client.orchestration import get_client

    from flows.archive_export import archive_export
    from flows.outbox import process_outbox

    factory, client = s3_env

    async def deploy() -> None:
        deployment = await archive_export.to_deployment(name="on-demand")
        await deployment.apply()

    asyncio.run(deploy())
    with factory() as s, s.begin():
        w = World(s)
        c = make_case(s, w.org, w.dep, stage=Stage.REJECTED)
        export = archive.request_export(s, w.registrar, case_ids=[c.id])
        export_id = export.id
    asyncio.run(process_outbox())
    with factory() as s:
        export = s.get(ArchiveExport, export_id)
        event = s.scalar(select(OutboxEvent).where(OutboxEvent.topic == "archive.export"))
        assert export.flow_run_id and event.processed_at is not None
        start_handler(s, event, None)  # a retry: the job has its run already
        assert s.get(ArchiveExport, export_id).flow_run_id == export.flow_run_id

    async def run_of(run_id: str):  # noqa: ANN202
        async with get_client() as pc:
            return await pc.read_flow_run(run_id)

    run = asyncio.run(run_of(export.flow_run_id))
    assert run.parameters == {"export_id": export_id}
    assert DEPLOYMENT.split("/")[0] == "archive_export"
