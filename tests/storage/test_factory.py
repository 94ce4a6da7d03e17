"""store_from_url: IOP_STORAGE_URL values to working stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.factory import store_from_url
from storage.filesystem import FilesystemStore
from storage.s3 import S3Store
from tests.fixtures.s3 import SeaweedServer


def test_default_relative_file_url_is_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = store_from_url("file://./var/objects")
    assert isinstance(store, FilesystemStore)
    assert store.root == tmp_path / "var" / "objects"
    store.put("cases/1/a.txt", b"x", content_type="text/plain")
    assert store.get("cases/1/a.txt") == b"x"


@pytest.mark.parametrize("template", ["file://{path}", "file://localhost{path}"])
def test_absolute_file_url(tmp_path: Path, template: str) -> None:
    store = store_from_url(template.format(path=tmp_path / "abs store"))
    assert isinstance(store, FilesystemStore)
    assert store.root == tmp_path / "abs store"


@pytest.mark.parametrize(
    "url",
    ["ftp://host/x", "file://somehost/x", "file://", "s3://", "s3://bucket/prefix", "s3://b?colour=red", "bucket"],
)
def test_bad_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        store_from_url(url, endpoint="127.0.0.1:9000")


def test_s3_requires_an_endpoint() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        store_from_url("s3://iop-documents")


def test_s3_url_builds_a_working_store(seaweed_server: SeaweedServer, s3_bucket: str) -> None:
    store = store_from_url(
        f"s3://{s3_bucket}",
        endpoint=seaweed_server.endpoint,
        access_key=seaweed_server.access_key,
        secret_key=seaweed_server.secret_key,
    )
    assert isinstance(store, S3Store)
    assert store.bucket == s3_bucket
    assert store.supports_object_lock is False
    stored = store.put("cases/1/a.txt", b"via factory", content_type="text/plain")
    assert store.get("cases/1/a.txt", stored.version_id) == b"via factory"


def test_s3_url_options_and_scheme_in_endpoint(seaweed_server: SeaweedServer, s3_bucket: str) -> None:
    store = store_from_url(
        f"s3://{s3_bucket}?object_lock=true",
        endpoint=f"http://{seaweed_server.endpoint}",
        access_key=seaweed_server.access_key,
        secret_key=seaweed_server.secret_key,
        secure=True,  # overridden by the explicit http:// scheme
    )
    assert isinstance(store, S3Store)
    assert store.supports_object_lock is True
    store.ping()
    assert seaweed_server.client().get_object_lock_config(s3_bucket) is not None
