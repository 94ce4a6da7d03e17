"""Fixtures for the storage suite: each store implementation on real backends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The root conftest may register tests.fixtures.s3 via pytest_plugins; importing the
# fixtures here as well would define a second session server, so only do it if not.
if "tests.fixtures.s3" not in sys.modules:
    from tests.fixtures.s3 import s3_bucket, seaweed_factory, seaweed_server  # noqa: F401

from storage.base import ObjectStore  # noqa: E402
from storage.filesystem import FilesystemStore  # noqa: E402
from storage.s3 import S3Store  # noqa: E402

BACKENDS = ["filesystem", "s3"]


def _make_store(request: pytest.FixtureRequest, tmp_path: Path, *, object_lock: bool) -> ObjectStore:
    """Build the store named by the test parameter on a fresh root or bucket."""
    if request.param == "filesystem":
        return FilesystemStore(tmp_path / "objects")
    server = request.getfixturevalue("seaweed_server")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Store(
        server.endpoint,
        server.access_key,
        server.secret_key,
        bucket,
        object_lock=object_lock,
    )


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Each store on an empty root/bucket (S3: versioned bucket without object lock)."""
    return _make_store(request, tmp_path, object_lock=False)


@pytest.fixture(params=BACKENDS)
def locked_store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Each store with retention enforcement (S3: bucket created with object lock)."""
    return _make_store(request, tmp_path, object_lock=True)
