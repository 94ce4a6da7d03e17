"""Issue 21: backup and restore as README "Backup and restore" describes it, into a fresh database and a fresh bucket.

The database is dumped and restored with the real tools (pg_dump -Fc / pg_restore into a new PostgreSQL database;
a copy of the SQLite file), the objects are copied version by version, with their metadata, into a new bucket of a
real SeaweedFS (what `mc cp --recursive --versions` does). The copy has new version ids, which every row pins: every
document must still download with its sha256, the audit chains verify, and the restored system takes new uploads.
Bytes that are not the recorded ones are never served: a 409 that says what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import World, auth, case
from fastapi.testclient import TestClient
from helpers import committing_sessions, drop_sessions, problem, use_sessions
from minio import Minio
from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from gates_setup import terms_payload
from service.agreements.models import Agreement
from service.agreements.schemas import AgreementTerms
from service.cases.stages import Stage
from service.db import make_engine
from service.documents import service as documents
from service.documents.models import Document
from service.reads import reader_for
from storage.s3 import S3Store

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 64


def restore_database(backend, source_url: str, tmp: Path) -> str:  # noqa: ANN001
    """Back up the database and restore it under a new name; returns the restored database's URL."""
    if backend.name == "sqlite":
        source = Path(source_url.removeprefix("sqlite:///"))
        target = tmp / "restored.db"
        shutil.copy(source, target)  # the service is stopped: a plain copy of the file is a consistent backup
        return f"sqlite:///{target}"
    dump = tmp / "iop.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source_url], check=True, timeout=120)
    name = f"iop_restore_{uuid.uuid4().hex[:8]}"
    admin = source_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"', admin], check=True, timeout=60)
    target = source_url.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)], check=True, timeout=120)
    backend.clones.append(name)  # dropped with the run's other databases
    return target


def copy_bucket(client: Minio, source: str, target: str) -> int:
    """Every version of every object, oldest first, with content type and user metadata: new version ids."""
    client.make_bucket(target)
    client.set_bucket_versioning(target, VersioningConfig(ENABLED))
    versions = [o for o in client.list_objects(source, recursive=True, include_version=True) if not o.is_delete_marker]
    copied = 0
    for obj in sorted(versions, key=lambda o: (o.object_name, o.last_modified)):
        stat = client.stat_object(source, obj.object_name, version_id=obj.version_id)
        meta = {k[len("x-amz-meta-"):]: v for k, v in stat.metadata.items() if k.lower().startswith("x-amz-meta-")}
        response = client.get_object(source, obj.object_name, version_id=obj.version_id)
        try:
            data = response.read()
        finally:
            response.close()
            response.release_conn()
        client.put_object(target, obj.object_name, io.BytesIO(data), len(data), content_type=stat.content_type, metadata=meta)
        copied += 1
    return copied


@pytest.fixture
def wired(app) -> Iterator:  # noqa: ANN001
    """Point the app at a database and a store (any number of times); undone at the end."""
    engines = []

    def wire(url: str, store: S3Store) -> sessionmaker:
        engine = make_engine(url, pool_size=5)
        engines.append(engine)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        use_sessions(app, committing_sessions(factory), reader_for(engine))
        app.dependency_overrides[documents.get_store] = lambda: store
        return factory

    yield wire
    drop_sessions(app)
    app.dependency_overrides.pop(documents.get_store, None)
    for engine in engines:
        engine.dispose()


def _seed(client: TestClient, factory: sessionmaker) -> dict:
    """Documents of every origin: generated (two versions), uploaded attachments, a signed agreement, board minutes."""
    with factory() as s:
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
        terms = AgreementTerms.model_validate(terms_payload(w.org.name, w.org.orgnr))
        s.add(Agreement(case_id=c.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                        period_start=terms.period_start, period_end=terms.period_end))
        s.commit()
        ids = {"case": c.id, "org": w.org.id, "officer": auth(w.officer), "member": auth(w.member)}
    cid, officer = ids["case"], ids["officer"]
    for _ in range(2):
        r = client.post(f"/api/v1/cases/{cid}/documents/agreement/generate", headers=officer)
        assert r.status_code == 201, r.text
    for name, data, who in (("avtal.pdf", PDF, officer), ("bild.png", PNG, ids["member"]), ("bilaga2.pdf", PDF + b"%2", officer)):
        r = client.post(f"/api/v1/cases/{cid}/attachments", files={"file": (name, data, "application/octet-stream")}, headers=who)
        assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/cases/{cid}/attachments", data={"kind": "signed_agreement"},
                    files={"file": ("undertecknat.pdf", PDF + b"%signed", "application/pdf")}, headers=officer)
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/organisations/{ids['org']}/overenskommelse", data={"date": "2026-01-15"},
                    files={"file": ("protokoll.pdf", PDF + b"%board", "application/pdf")}, headers=ids["member"])
    assert r.status_code == 201, r.text
    return ids


def _documents(factory: sessionmaker) -> list[Document]:
    """Every document row, read in a transaction of its own (SQLite: not held while the requests write)."""
    with factory() as s:
        return list(s.scalars(select(Document).order_by(Document.kind, Document.version)))


def _download(client: TestClient, doc: Document, headers: dict):  # noqa: ANN202
    if doc.case_id is None:
        return client.get(f"/api/v1/organisations/{doc.organisation_id}/board-minutes/{doc.id}/content", headers=headers)
    return client.get(f"/api/v1/cases/{doc.case_id}/documents/{doc.id}/content", headers=headers)


def test_restore_into_a_fresh_database_and_bucket_downloads_every_document(app, backend, seaweed_server, wired,  # noqa: ANN001
                                                                            tmp_path: Path) -> None:
    s3 = seaweed_server.client()
    source_bucket, target_bucket = f"src-{uuid.uuid4().hex[:10]}", f"restored-{uuid.uuid4().hex[:10]}"
    source_store = S3Store(seaweed_server.endpoint, seaweed_server.access_key, seaweed_server.secret_key, source_bucket)
    source_url = backend.clone()
    factory = wired(source_url, source_store)
    with TestClient(app, raise_server_exceptions=False) as client:
        ids = _seed(client, factory)
        docs = _documents(factory)
        originals = {d.id: (d.sha256, d.storage_version_id) for d in docs}
        for d in docs:
            assert hashlib.sha256(_download(client, d, ids["officer"]).content).hexdigest() == d.sha256
    assert len(originals) == 7
    factory.kw["bind"].dispose()  # the service stops: SQLite's WAL is checkpointed into the file by the last close

    # Backup (service stopped): the database, then the bucket with every version. Restore into new ones.
    restored_url = restore_database(backend, source_url, tmp_path)
    assert copy_bucket(s3, source_bucket, target_bucket) >= len(originals)
    restored_store = S3Store(seaweed_server.endpoint, seaweed_server.access_key, seaweed_server.secret_key, target_bucket)
    factory = wired(restored_url, restored_store)
    with TestClient(app, raise_server_exceptions=False) as client:
        docs = _documents(factory)
        assert {d.id: (d.sha256, d.storage_version_id) for d in docs} == originals
        for d in docs:
            assert restored_store.stat(d.storage_key).version_id != d.storage_version_id  # the copy has new version ids
            r = _download(client, d, ids["officer"])
            assert r.status_code == 200, r.text
            assert hashlib.sha256(r.content).hexdigest() == d.sha256 == r.headers["x-content-sha256"]
        verify = client.get(f"/api/v1/cases/{ids['case']}/audit/verify", headers=ids["officer"])
        assert verify.status_code == 200 and verify.json()["valid"] is True, verify.text
        # The restored system goes on: a new upload is the next version and downloads too.
        r = client.post(f"/api/v1/cases/{ids['case']}/attachments", files={"file": ("ny.pdf", PDF + b"%new", "application/pdf")},
                        headers=ids["officer"])
        assert r.status_code == 201 and r.json()["version"] == 4, r.text
        new = client.get(f"/api/v1/cases/{ids['case']}/documents/{r.json()['id']}/content", headers=ids["officer"])
        assert hashlib.sha256(new.content).hexdigest() == r.json()["sha256"]


def test_a_restored_bucket_with_other_bytes_or_without_the_object_is_a_409_never_the_wrong_file(app, backend, seaweed_server,  # noqa: ANN001
                                                                                                wired) -> None:
    s3 = seaweed_server.client()
    bucket = f"src-{uuid.uuid4().hex[:10]}"
    store = S3Store(seaweed_server.endpoint, seaweed_server.access_key, seaweed_server.secret_key, bucket)
    factory = wired(backend.clone(), store)
    with TestClient(app, raise_server_exceptions=False) as client:
        ids = _seed(client, factory)
        first, second = [d for d in _documents(factory) if d.kind == "attachment"][:2]
        # A "restore" that brought other bytes under the first key (e.g. a newer copy of the file) and none under the second.
        fresh = f"restored-{uuid.uuid4().hex[:10]}"
        s3.make_bucket(fresh)
        s3.set_bucket_versioning(fresh, VersioningConfig(ENABLED))
        other = S3Store(seaweed_server.endpoint, seaweed_server.access_key, seaweed_server.secret_key, fresh)
        other.put(first.storage_key, PDF + b"%tampered", content_type="application/pdf")
        app.dependency_overrides[documents.get_store] = lambda: other
        body = problem(client.get(f"/api/v1/cases/{ids['case']}/documents/{first.id}/content", headers=ids["officer"]), 409)
        assert "different bytes" in body["detail"] and first.sha256 in body["detail"]
        body = problem(client.get(f"/api/v1/cases/{ids['case']}/documents/{second.id}/content", headers=ids["officer"]), 409)
        assert "missing from storage" in body["detail"]
        # A copy that lost the sha256 metadata still serves the right bytes: the fallback hashes them itself.
        s3.put_object(fresh, second.storage_key, io.BytesIO(PNG), len(PNG), content_type="image/png")
        r = client.get(f"/api/v1/cases/{ids['case']}/documents/{second.id}/content", headers=ids["officer"])
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == second.sha256
