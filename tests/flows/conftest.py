"""Flow tests share one temporary Prefect server and wire the flows to a database of each test's own."""

from __future__ import annotations

import pytest
from prefect.testing.utilities import prefect_test_harness

from service.config import get_settings
from service.db import get_engine, get_sessionmaker


@pytest.fixture(scope="session")
def prefect_server():  # noqa: ANN201
    """A temporary Prefect server for the whole run."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


def _clear_caches() -> None:
    from flows.runtime import outbox_context
    from service.documents.service import get_store

    for fn in (get_settings, get_engine, get_sessionmaker, outbox_context, get_store):
        fn.cache_clear()


@pytest.fixture
def env(prefect_server, backend, smtp_server, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    """Flows wired to a database of this test's own, the SMTP server and a files store."""
    url = backend.clone()
    monkeypatch.setenv("IOP_DATABASE_URL", url)
    monkeypatch.setenv("IOP_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("IOP_MAIL_FROM", "iop@kommun.example.se")
    monkeypatch.setenv("IOP_STORAGE_URL", f"file://{tmp_path}/objects")
    monkeypatch.setenv("PREFECT_LOCAL_STORAGE_PATH", str(tmp_path / "prefect-results"))
    _clear_caches()
    yield get_sessionmaker()
    get_engine().dispose()
    _clear_caches()
    backend.drop(url)
