"""S3Store behaviour that has no filesystem counterpart, checked against SeaweedFS."""

from __future__ import annotations

import urllib.request
from datetime import datetime, timedelta, UTC

import pytest
from minio.commonconfig import COMPLIANCE

from storage.base import StorageError, StorageUnavailable
from storage.s3 import S3Store
from tests.fixtures.s3 import SeaweedServer

KEY = "cases/3/decision/v1/beslut.docx"


def _store(server: SeaweedServer, bucket: str, **kw: object) -> S3Store:
    return S3Store(server.endpoint, server.access_key, server.secret_key, bucket, **kw)  # type: ignore[arg-type]


def test_bucket_is_created_versioned(seaweed_server: SeaweedServer, s3_bucket: str) -> None:
    client = seaweed_server.client()
    assert not client.bucket_exists(s3_bucket)

    _store(seaweed_server, s3_bucket).ping()

    assert client.bucket_exists(s3_bucket)
    assert client.get_bucket_versioning(s3_bucket).status == "Enabled"


def test_sha256_is_stored_as_user_metadata(seaweed_server: SeaweedServer, s3_bucket: str) -> None:
    store = _store(seaweed_server, s3_bucket)
    stored = store.put(KEY, b"beslut", content_type="text/plain", metadata={"case-id": "3"})

    raw = seaweed_server.client().stat_object(s3_bucket, KEY, version_id=stored.version_id)
    assert raw.metadata["x-amz-meta-sha256"] == stored.sha256
    assert raw.metadata["x-amz-meta-case-id"] == "3"
    assert raw.version_id == stored.version_id
    assert stored.etag


def test_retention_is_compliance_mode(seaweed_server: SeaweedServer, s3_bucket: str) -> None:
    store = _store(seaweed_server, s3_bucket, object_lock=True)
    until = datetime.now(UTC) + timedelta(days=1)
    stored = store.put(KEY, b"signed", content_type="text/plain", retain_until=until)

    retention = seaweed_server.client().get_object_retention(s3_bucket, KEY, version_id=stored.version_id)
    assert retention is not None
    assert retention.mode == COMPLIANCE
    assert abs(retention.retain_until_date - until) < timedelta(seconds=2)


def test_retain_until_without_object_lock_is_not_sent(seaweed_server: SeaweedServer, s3_bucket: str) -> None:
    store = _store(seaweed_server, s3_bucket)  # object_lock=False
    assert store.supports_object_lock is False
    until = datetime.now(UTC) + timedelta(days=1)
    stored = store.put(KEY, b"x", content_type="text/plain", retain_until=until)

    # The caller was told via supports_object_lock; the put still succeeds.
    store.delete(KEY, stored.version_id)
    assert not store.exists(KEY)


def test_object_lock_on_an_existing_unlocked_bucket_is_a_configuration_error(
    seaweed_server: SeaweedServer, s3_bucket: str
) -> None:
    _store(seaweed_server, s3_bucket).ping()  # creates the bucket without object lock

    locked = _store(seaweed_server, s3_bucket, object_lock=True)
    with pytest.raises(StorageError, match="without object lock") as excinfo:
        locked.put(KEY, b"x", content_type="text/plain")
    assert not isinstance(excinfo.value, StorageUnavailable)
    with pytest.raises(StorageUnavailable):  # /ready must report it as not usable
        locked.ping()


def test_wrong_credentials_are_not_reported_as_missing_objects(
    seaweed_server: SeaweedServer, s3_bucket: str
) -> None:
    good = _store(seaweed_server, s3_bucket)
    good.put(KEY, b"x", content_type="text/plain")
    bad = S3Store(seaweed_server.endpoint, seaweed_server.access_key, "wrong-secret-key", s3_bucket)

    with pytest.raises(StorageError) as excinfo:
        bad.get(KEY)
    assert type(excinfo.value) is StorageError  # neither ObjectNotFound nor "unavailable"
    with pytest.raises(StorageUnavailable):
        bad.ping()


def test_presigned_url_downloads_that_version(seaweed_server: SeaweedServer, s3_bucket: str) -> None:
    store = _store(seaweed_server, s3_bucket)
    v1 = store.put(KEY, b"first", content_type="text/plain")
    store.put(KEY, b"second", content_type="text/plain")

    url = store.presigned_url(KEY, v1.version_id, timedelta(minutes=2))
    assert url is not None and url.startswith(f"http://{seaweed_server.endpoint}/")
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback test server
        assert response.read() == b"first"

    with pytest.raises(ValueError):
        store.presigned_url(KEY, v1.version_id, timedelta(days=8))
