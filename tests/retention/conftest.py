"""Gallring tests keep their documents in a real object store with retention enforced: files, or SeaweedFS S3 with object lock."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["filesystem", "s3"])
def store(request, app, tmp_path):  # noqa: ANN001, ANN201
    """The app's object store (the S3 bucket is created with object lock and versioning)."""
    from service.documents import service as documents
    from storage.filesystem import FilesystemStore
    from storage.s3 import S3Store

    if request.param == "filesystem":
        s = FilesystemStore(tmp_path / "objects")
    else:
        server = request.getfixturevalue("seaweed_server")
        s = S3Store(server.endpoint, server.access_key, server.secret_key, request.getfixturevalue("s3_bucket"), object_lock=True)
    app.dependency_overrides[documents.get_store] = lambda: s
    yield s
    app.dependency_overrides.pop(documents.get_store, None)
