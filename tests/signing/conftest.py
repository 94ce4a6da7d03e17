"""A test CA and signing certificate made for the signing tests, and settings that use them."""

from __future__ import annotations

from pathlib import Path

import pytest
from signing_setup import signing_settings

from service.config import Settings
from service.signing.keys import TestPki, make_test_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A self-signed CA and a signing certificate it issued (made here, never the development one under var/)."""
    return make_test_pki(tmp_path_factory.mktemp("pki"), password="test-signing")


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A second, unrelated CA: signatures of the first do not chain to it."""
    return make_test_pki(tmp_path_factory.mktemp("other-pki"), password="other", organisation="Annan kommun")


@pytest.fixture
def settings(pki: TestPki) -> Settings:
    """Signing settings with the test CA as the only trust root."""
    return signing_settings(pki)


@pytest.fixture
def store(tmp_path: Path):  # noqa: ANN201
    """A filesystem object store (enforces retention itself)."""
    from storage.filesystem import FilesystemStore

    return FilesystemStore(tmp_path / "objects")
