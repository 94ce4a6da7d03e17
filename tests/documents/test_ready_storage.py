"""/ready probes a write to the object store (probe registered by the documents package).

Against real SeaweedFS: ok, hung, dead, and answering reads while refusing writes (its volume server
stopped while master, filer and S3 gateway answer: what S3 looks like right after a restart).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import get_settings
from service.documents import router as documents_router
from service.documents import service as documents
from service.probes import READY_PROBES
from storage.base import PROBE_KEY, StorageUnavailable
from storage.filesystem import FilesystemStore
from storage.s3 import S3Store
from tests.fixtures.s3 import HOST, SeaweedServer, _die_with_parent, weed_binary

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def probe_every_call(monkeypatch):  # noqa: ANN001, ANN201
    """Most tests follow the store call by call; the cache has a test of its own."""
    monkeypatch.setattr(get_settings(), "storage_probe_cache_seconds", 0.0)


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
        def probe_write(self) -> None:
            time.sleep(3)

    monkeypatch.setattr(documents, "get_store", lambda: Hung())
    monkeypatch.setattr(documents_router, "STORAGE_PROBE_TIMEOUT", 0.5)
    status, checks, elapsed = _ready(client)
    assert status == 503 and checks["storage"] == "error: TimeoutError" and elapsed < 2.5


@dataclass
class SplitSeaweed(SeaweedServer):
    """Master, filer and S3 gateway in one process, the volume server in another, to be stopped on its own."""

    volume: subprocess.Popen[bytes] | None = None

    def _command(self) -> list[str]:
        return [*super()._command(), "-volume=false"]

    def _wait_ready(self, timeout: float) -> None:
        self.start_volume()
        super()._wait_ready(timeout)

    def start_volume(self) -> None:
        """Start the volume server; it registers with the master by heartbeat."""
        p = self.ports
        (self.data_dir / "volume").mkdir(exist_ok=True)
        self.volume = subprocess.Popen(
            [str(weed_binary()), "volume", f"-ip={HOST}", f"-ip.bind={HOST}", f"-port={p['volume']}",
             f"-port.grpc={p['volume_grpc']}", f"-dir={self.data_dir / 'volume'}", "-max=0",
             f"-mserver={HOST}:{p['master']}.{p['master_grpc']}", "-preStopSeconds=0"],
            cwd=self.data_dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )

    def stop_volume(self) -> None:
        """SIGKILL the volume server only; reads of metadata and bucket calls still answer."""
        if self.volume is not None and self.volume.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.volume.pid, signal.SIGKILL)
            self.volume.wait(timeout=30)

    def kill(self) -> None:
        self.stop_volume()
        super().kill()


@pytest.fixture
def split_seaweed(tmp_path: Path):  # noqa: ANN201
    """A SeaweedFS whose volume server can be stopped while the rest answers."""
    server = SplitSeaweed(data_dir=tmp_path / "split")
    server.data_dir.mkdir(parents=True)
    try:
        server.start()
        yield server
    finally:
        server.kill()


def _upload_works(store: S3Store) -> bool:
    try:
        info = store.put("cases/0/attachment/v1/probe.pdf", PDF, content_type="application/pdf")
    except StorageUnavailable:
        return False
    store.delete(info.key, info.version_id)
    return True


def test_ready_is_503_while_s3_answers_but_refuses_writes(client, split_seaweed, s3_bucket, monkeypatch) -> None:  # noqa: ANN001
    store = S3Store(split_seaweed.endpoint, split_seaweed.access_key, split_seaweed.secret_key, s3_bucket)
    monkeypatch.setattr(documents, "get_store", lambda: store)
    assert _ready(client)[1]["storage"] == "ok" and _upload_works(store)

    split_seaweed.stop_volume()
    store.ping()  # the bucket still answers: a read-only check would say "ready"
    assert not _upload_works(store)
    status, checks, elapsed = _ready(client)
    assert status == 503 and checks["storage"].startswith("error: StorageUnavailable"), checks
    assert elapsed < 6, elapsed

    # After the restart: never green before an upload works, green once it does.
    split_seaweed.start_volume()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _ready(client)[0] == 200:
            assert _upload_works(store), "/ready green while uploads still fail"
            break
        time.sleep(0.3)
    else:
        pytest.fail("storage never became ready after the volume server came back")
    # The probe leaves nothing behind, not even old versions of its key.
    assert [v for v in store.list_versions("_probe/") if v.key == PROBE_KEY] == []


def test_the_probe_outcome_is_reused_for_a_few_seconds(client, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    class Counting(FilesystemStore):
        probes = 0

        def probe_write(self) -> None:
            type(self).probes += 1
            super().probe_write()

    root = tmp_path / "objects"
    store = Counting(root)
    monkeypatch.setattr(documents, "get_store", lambda: store)
    monkeypatch.setattr(get_settings(), "storage_probe_cache_seconds", 1.5)
    for _ in range(10):
        assert _ready(client)[1]["storage"] == "ok"
    assert Counting.probes == 1  # one write for ten calls
    root.rmdir()
    root.write_bytes(b"")
    assert _ready(client)[0] == 200  # still the remembered outcome
    time.sleep(1.6)
    status, checks, _ = _ready(client)
    assert status == 503 and checks["storage"] == "error: StorageUnavailable" and Counting.probes == 2
    assert _ready(client)[0] == 503 and Counting.probes == 2  # the failure is remembered too
