"""The e-archive tests: a real filesystem object store and the fully closed demo case (tests/archive_world.py)."""

from __future__ import annotations

import pytest
from archive_world import Closed, build_closed_case
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from service.documents import service as documents
from storage.filesystem import FilesystemStore


@pytest.fixture
def store(app, tmp_path):  # noqa: ANN001, ANN201
    """Documents go to a real filesystem object store."""
    s = FilesystemStore(tmp_path / "objects")
    app.dependency_overrides[documents.get_store] = lambda: s
    yield s
    app.dependency_overrides.pop(documents.get_store, None)


@pytest.fixture
def closed(client: TestClient, db: Session, store: FilesystemStore) -> Closed:
    """The fully closed demo case."""
    return build_closed_case(client, db, store)
