"""The service's signing key (PKCS#12, IOP_SIGNING_*), and a self-signed test CA for development and tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from service.config import Settings
from service.errors import ServiceUnavailable

NOT_CONFIGURED = ("Underskriftstjänsten saknar nyckel och certifikat (IOP_SIGNING_PKCS12_PATH) / "
                  "no signing key and certificate configured (IOP_SIGNING_PKCS12_PATH)")


class SigningNotConfigured(ServiceUnavailable):
    """No usable PKCS#12 is configured: nothing can be signed or sealed."""

    code = "signing-not-configured"
    title = "Elektronisk underskrift är inte konfigurerad / Electronic signing is not configured"


def configured(settings: Settings) -> bool:
    """True when a PKCS#12 file is configured and exists."""
    return bool(settings.signing_pkcs12_path) and Path(settings.signing_pkcs12_path).is_file()


@lru_cache(maxsize=4)
def _load_signer(path: str, password: str | None, mtime: float):  # noqa: ANN202 - pyhanko SimpleSigner
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12(path, passphrase=password.encode() if password else None)
    if signer is None:
        raise SigningNotConfigured(f"PKCS#12-filen {path} kunde inte läsas (fel lösenord?) / could not be read (wrong password?)",
                                   retry_after=3600)
    return signer


def load_signer(settings: Settings):  # noqa: ANN201 - pyhanko SimpleSigner
    """The configured key and certificate as a pyHanko signer (503 when none is configured)."""
    if not configured(settings):
        raise SigningNotConfigured(NOT_CONFIGURED, retry_after=3600)
    path = settings.signing_pkcs12_path
    return _load_signer(path, settings.signing_pkcs12_password, Path(path).stat().st_mtime)


def trust_roots(settings: Settings) -> list:  # pyhanko/asn1crypto certificates
    """The CA certificates signatures are validated against (PEM files in IOP_SIGNING_TRUST_ROOTS)."""
    from pyhanko.keys import load_certs_from_pemder

    files = [f for f in settings.signing_trust_roots if Path(f).is_file()]
    return list(load_certs_from_pemder(files)) if files else []


# ------------------------------------------------------------------ test CA (make dev, tests)

@dataclass(frozen=True)
class TestPki:
    """Where a generated CA and signing certificate were written."""

    ca_pem: Path
    pkcs12: Path
    password: str


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_test_pki(directory: Path, *, password: str = "iop-dev", organisation: str = "Exempelstads kommun",
                  signer_name: str = "Exempelstads kommun e-sigill (test)", days: int = 3650) -> TestPki:
    """A self-signed test CA and a signing certificate it issued (PKCS#12 with the chain), written to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("IOP Partnerskap test-CA (ej för produktion)", organisation)
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(signer_name, organisation)).issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=days - 1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = directory / "ca.pem"
    p12 = directory / "signing.p12"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"iop-signing", key, cert, [ca_cert], serialization.BestAvailableEncryption(password.encode())))
    p12.chmod(0o600)
    return TestPki(ca_pem=ca_pem, pkcs12=p12, password=password)


def ensure_dev_pki(directory: Path) -> TestPki:
    """The development CA and certificate under `directory` (var/signing), made once when missing."""
    pki = TestPki(ca_pem=directory / "ca.pem", pkcs12=directory / "signing.p12", password="iop-dev")
    if pki.ca_pem.is_file() and pki.pkcs12.is_file():
        return pki
    return make_test_pki(directory)
