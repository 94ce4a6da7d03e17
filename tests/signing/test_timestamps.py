"""PAdES-B-T: with IOP_SIGNING_TSA_URL every signature gets an RFC 3161 timestamp over HTTP (a TSA run in the test),
validated with the signature; a TSA that does not answer signs nothing (503)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from signing_setup import signing_settings

from service.documents.pdfa import convert_to_pdfa, pdfa_available
from service.signing import keys, pades

needs_soffice = pytest.mark.skipif(not pdfa_available(), reason="LibreOffice (soffice) is not installed")


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An RFC 3161 time-stamping authority on 127.0.0.1 (pyHanko's test TSA, RSA) and its self-signed certificate."""
    from asn1crypto import keys as akeys, tsp, x509 as ax509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test-TSA")])
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True).sign(key, hashes.SHA256()))
    stamper = DummyTimeStamper(
        tsa_cert=ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=akeys.PrivateKeyInfo.load(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption())))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pem = tmp_path_factory.mktemp("tsa") / "tsa.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    yield f"http://127.0.0.1:{server.server_port}/", pem
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def pdf() -> bytes:
    """A PDF/A with a signature page (LibreOffice, once for the module)."""
    import docx

    d = docx.Document()
    d.add_paragraph("Överenskommelse om idéburet offentligt partnerskap.")
    out = BytesIO()
    d.save(out)
    return pades.prepare(convert_to_pdfa(out.getvalue()), "Underskrifter", [pades.FieldSpec("Underskrift1", "Kommunen: Eva Ek")])


def _sign(pdf: bytes, settings) -> bytes:  # noqa: ANN001
    return pades.sign(pdf, settings, field_name="Underskrift1", name="Eva Ek", role="Förvaltningschef", party="Exempelstads kommun",
                      when=datetime.now(), reason="Undertecknar")


@needs_soffice
def test_signature_gets_a_timestamp_that_validates_with_its_tsa(pdf: bytes, tsa, pki) -> None:  # noqa: ANN001
    url, tsa_pem = tsa
    settings = signing_settings(pki, signing_tsa_url=url)
    signed = _sign(pdf, settings)
    trusted = pades.validate(signed, keys.trust_roots(settings.model_copy(update={"signing_trust_roots": [str(pki.ca_pem), str(tsa_pem)]})))
    assert trusted.valid, trusted
    (sig,) = trusted.signatures
    assert sig.timestamp_at is not None and abs((sig.timestamp_at - datetime.now(dt.UTC)).total_seconds()) < 120
    # The same signature with a TSA nobody trusts: the timestamp does not count.
    untrusted = pades.validate(signed, keys.trust_roots(settings))
    assert not untrusted.valid and any("Tidsstämpel" in p for p in untrusted.signatures[0].problems)
    # Without a TSA there is no timestamp at all (PAdES-B-B).
    assert pades.validate(_sign(pdf, signing_settings(pki)), keys.trust_roots(settings)).signatures[0].timestamp_at is None


@needs_soffice
def test_a_tsa_that_does_not_answer_signs_nothing(pdf: bytes, pki) -> None:  # noqa: ANN001
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(pades.TsaUnavailable) as refused:
        _sign(pdf, signing_settings(pki, signing_tsa_url=f"http://127.0.0.1:{port}/", signing_tsa_timeout_seconds=2))
    assert refused.value.status_code == 503
