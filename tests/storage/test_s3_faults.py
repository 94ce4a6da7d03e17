"""S3 store against dedicated SeaweedFS servers that crash, hang or never existed."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from storage.base import StorageUnavailable
from storage.s3 import S3Store
from tests.fixtures.s3 import HOST, SeaweedServer

# Spec: storage down -> 503 quickly. The client is configured to give up within 5 s;
# the margin absorbs scheduling noise on a loaded test machine.
FAIL_WITHIN = 6.0


def _store(server: SeaweedServer, bucket: str) -> S3Store:
    return S3Store(server.endpoint, server.access_key, server.secret_key, bucket)


def _timed(call: Callable[[], object]) -> float:
    """Run ``call``, require StorageUnavailable, and return how long it took."""
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        call()
    return time.monotonic() - started


def test_killed_server_fails_fast_and_store_recovers_after_restart(
    seaweed_factory: Callable[[], SeaweedServer], s3_bucket: str
) -> None:
    server = seaweed_factory()
    store = _store(server, s3_bucket)
    before = store.put("cases/1/a.txt", b"before the crash", content_type="text/plain")
    assert store.get("cases/1/a.txt") == b"before the crash"  # keep-alive connection pooled

    server.kill()  # SIGKILL, like an OOM kill or a power cut
    assert not server.is_running()

    elapsed = _timed(lambda: store.put("cases/1/b.txt", b"during", content_type="text/plain"))
    assert elapsed < FAIL_WITHIN, f"put took {elapsed:.1f}s to fail"
    elapsed = _timed(store.ping)
    assert elapsed < FAIL_WITHIN, f"ping took {elapsed:.1f}s to fail"
    # Reads must not pretend the object is gone.
    assert _timed(lambda: store.get("cases/1/a.txt")) < FAIL_WITHIN
    assert _timed(lambda: store.open("cases/1/a.txt")) < FAIL_WITHIN
    assert _timed(lambda: store.stat("cases/1/a.txt")) < FAIL_WITHIN
    assert _timed(lambda: store.list_versions("cases/")) < FAIL_WITHIN
    assert _timed(lambda: store.delete("cases/1/a.txt", before.version_id)) < FAIL_WITHIN

    server.restart()  # same ports, same data directory
    store.ping()  # the very same store object recovers without being rebuilt
    assert store.get("cases/1/a.txt", before.version_id) == b"before the crash"
    store.put("cases/1/b.txt", b"after", content_type="text/plain")
    assert store.get("cases/1/b.txt") == b"after"


def test_hung_server_fails_within_the_time_limit(
    seaweed_factory: Callable[[], SeaweedServer], s3_bucket: str
) -> None:
    server = seaweed_factory()
    store = _store(server, s3_bucket)
    store.put("cases/1/a.txt", b"x", content_type="text/plain")

    # SIGSTOP: the kernel still accepts TCP connections, but nothing ever answers, so
    # only the client's read timeout can end the request.
    server.freeze()
    try:
        elapsed = _timed(lambda: store.put("cases/1/b.txt", b"y" * 10_000, content_type="text/plain"))
        assert elapsed < FAIL_WITHIN, f"put took {elapsed:.1f}s to fail"
        elapsed = _timed(store.ping)
        assert elapsed < FAIL_WITHIN, f"ping took {elapsed:.1f}s to fail"
        elapsed = _timed(lambda: store.get("cases/1/a.txt"))
        assert elapsed < FAIL_WITHIN, f"get took {elapsed:.1f}s to fail"
    finally:
        server.thaw()


def test_unreachable_endpoint_fails_fast_and_construction_is_offline(s3_bucket: str) -> None:
    # A loopback port nobody listens on: connection refused.
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    store = S3Store(f"{HOST}:{port}", "key", "secret-secret", s3_bucket)  # must not touch the network

    assert store.supports_object_lock is False
    assert _timed(lambda: store.put("cases/1/a.txt", b"x", content_type="text/plain")) < FAIL_WITHIN
    assert _timed(store.ping) < FAIL_WITHIN
    assert _timed(lambda: store.exists("cases/1/a.txt")) < FAIL_WITHIN
