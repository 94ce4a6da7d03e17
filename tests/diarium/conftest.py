"""A real filesystem object store for the documents the diarium tests register."""

from __future__ import annotations

import pytest

from storage.filesystem import FilesystemStore


@pytest.fixture
def store(app, tmp_path):  # noqa: ANN001, ANN201
    """Documents go to a real filesystem object store."""
    from service.documents import service as documents

    s = FilesystemStore(tmp_path / "objects")
    app.dependency_overrides[documents.get_store] = lambda: s
    yield s
    app.dependency_overrides.pop(documents.get_store, None)
