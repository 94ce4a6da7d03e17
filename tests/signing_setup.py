"""Settings that sign with a test certificate (tests/signing/conftest.py makes the CA)."""

from __future__ import annotations

from service.config import Settings
from service.signing.keys import TestPki


def signing_settings(pki: TestPki, **more) -> Settings:  # noqa: ANN003
    """Settings that sign with the test certificate and trust the test CA."""
    return Settings(signing_pkcs12_path=str(pki.pkcs12), signing_pkcs12_password=pki.password, signing_trust_roots=[str(pki.ca_pem)],
                    **more)
