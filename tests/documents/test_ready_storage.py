"""/ready checks the object store (probe registered by the documents package): ok, hung and dead SeaweedFS."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from service.documents import router as documents_router
from service.documents import service as documents
from service.probes import READY_PROBES
from storage.filesystem import FilesystemStore
from storage.s3 import S3Store


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    """/ready needs no request session, so no test database either (the checks run once, not per backend)."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _ready(client) -> tuple[int, dict[str, str], float]:  # noqa: ANN001
    t0 = time.monotonic()
    r = client.get("/ready")
    elapsed = time.monotonic() - t0
    body = r.json()
    # Whatever the other dependencies say, the status follows the checks.
    assert r.status_code == (200 if all(v == "ok" for v in body["checks"].values()) else 503)
    assert body["status"] == ("ok" if r.status_code == 200 else "unavailable")
    return r.status_code, body["checks"], elapsed


def test_storage_probe_is_registered_by_the_documents_package() -> None:
    assert READY_PROBES["storage"] is documents_router.storage_probe


def test_ready_follows_a_live_hung_and_killed_seaweedfs(client, seaweed_factory, s3_bucket, monkeypatch) -> None:  # noqa: ANN001
    server = seaweed_factory()
    store = S3Store(server.endpoint, server.access_key, server.secret_key, s3_bucket)
    monkeypatch.setattr(documents, "get_store", lambda: store)

    _, checks, _ = _ready(client)
    assert checks["storage"] == "ok"

    server.freeze()  # accepts connections, answers nothing
    try:
        status, checks, elapsed = _ready(client)
    finally:
        server.thaw()
    assert status == 503 and checks["storage"].startswith("error: StorageUnavailable"), checks
    assert elapsed < 6, elapsed
    assert _ready(client)[1]["storage"] == "ok"

    server.kill()
    status, checks, elapsed = _ready(client)
    assert status == 503 and checks["storage"].startswith("error: StorageUnavailable"), checks
    assert elapsed < 6, elapsed

    server.start()
    assert _ready(client)[1]["storage"] == "ok"


def test_ready_reports_a_broken_filesystem_store(client, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    root = tmp_path / "objects"
    store = FilesystemStore(root)
    monkeypatch.setattr(documents, "get_store", lambda: store)
    assert _ready(client)[1]["storage"] == "ok"
    root.rmdir()
    root.write_bytes(b"")  # the mount is gone and something else sits there: no write can succeed, not even as root
    status, checks, _ = _ready(client)
    assert status == 503 and checks["storage"] == "error: StorageUnavailable"


def test_a_storage_call_that_never_returns_fails_the_probe_in_time(client, monkeypatch) -> None:  # noqa: ANN001
    """Even a hang below the client's own timeouts (a stale NFS mount) cannot hold /ready."""
    class Hung:
        def ping(self) -> None:
            time.sleep(3)

    monkeypatch.setattr(documents, "get_store", lambda: Hung())
    monkeypatch.setattr(documents_router, "STORAGE_PROBE_TIMEOUT", 0.5)
    status, checks, elapsed = _ready(client)
    assert status == 503 and checks["storage"] == "error: TimeoutError" and elapsed < 2.5
