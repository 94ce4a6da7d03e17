"""Issue 21: a too large upload is refused before its body is read (or as soon as the limit is passed), and a client
that stops sending gets 408; against the real app under a real uvicorn on 127.0.0.1, spoken to over a raw socket.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from service.bodylimit import ENVELOPE_BYTES, BodyLimit
from service.config import get_settings

HOST = "127.0.0.1"
MIB = 1024 * 1024


def _serve(app) -> Iterator[int]:  # noqa: ANN001
    sock = socket.create_server((HOST, 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def port(app) -> Iterator[int]:  # noqa: ANN001
    """The application as deployed (its own BodyLimit, 30 s idle timeout)."""
    yield from _serve(app)


@pytest.fixture
def impatient_port(app) -> Iterator[int]:  # noqa: ANN001
    """The application behind a BodyLimit with a 1 s idle timeout."""
    yield from _serve(BodyLimit(app, idle_timeout=1.0))


def _read_response(conn: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    conn.settimeout(timeout)
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = conn.recv(65536)
        assert chunk, f"connection closed without a response: {raw!r}"
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _head(path: str, extra: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: multipart/form-data; boundary=xyz\r\n{extra}\r\n").encode()


@pytest.mark.parametrize("path", ["/api/v1/cases/1/attachments", "/arenden/1/bilagor", "/api/v1/organisations/1/overenskommelse"])
def test_a_declared_100_mb_upload_is_refused_before_its_body(port: int, path: str) -> None:
    with socket.create_connection((HOST, port)) as conn:
        conn.sendall(_head(path, f"Content-Length: {100 * MIB}\r\n"))  # and not one byte of the body
        started = time.monotonic()
        status, headers, body = _read_response(conn, timeout=5)
    assert status == 413 and time.monotonic() - started < 2
    assert headers["content-type"].startswith("application/problem+json") and headers["connection"] == "close"
    problem = json.loads(body)
    assert problem["status"] == 413 and problem["type"].endswith("payload-too-large")
    assert " / " in problem["detail"]  # Swedish / English


def test_a_browser_gets_a_page_for_its_too_large_upload(port: int) -> None:
    with socket.create_connection((HOST, port)) as conn:
        conn.sendall(_head("/arenden/7/bilagor", f"Content-Length: {100 * MIB}\r\nAccept: text/html,*/*\r\n"
                                                 f"Referer: http://{HOST}/arenden/7\r\n"))
        status, headers, body = _read_response(conn, timeout=5)
    assert status == 413 and headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "Filen är för stor" in page and "MB" in page and 'href="/arenden/7"' in page and "/ request body" not in page


def test_a_chunked_upload_is_cut_at_the_limit(port: int) -> None:
    limit = get_settings().upload_limit_bytes + ENVELOPE_BYTES
    sent = {"bytes": 0}
    with socket.create_connection((HOST, port)) as conn:
        conn.sendall(_head("/api/v1/cases/1/attachments", "Transfer-Encoding: chunked\r\n"))
        preamble = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-'

        def send_body() -> None:
            piece = b"0" * (256 * 1024)
            try:
                conn.sendall(b"%x\r\n%s\r\n" % (len(preamble), preamble))
                while sent["bytes"] < 4 * limit:  # a 100 MB body, as far as the client is concerned
                    conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                    sent["bytes"] += len(piece)
            except OSError:
                pass  # the server stopped reading and closed: what we want

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        status, headers, body = _read_response(conn, timeout=30)
    sender.join(10)
    assert status == 413, body
    assert json.loads(body)["type"].endswith("payload-too-large")
    assert sent["bytes"] < 2 * limit  # refused near the limit, not after reading everything


def test_a_silent_client_mid_body_gets_408(impatient_port: int) -> None:
    with socket.create_connection((HOST, impatient_port)) as conn:
        conn.sendall(_head("/api/v1/cases/1/attachments", "Content-Length: 5000\r\n") + b"--xyz\r\n")  # then nothing
        started = time.monotonic()
        status, _, body = _read_response(conn, timeout=10)
    assert status == 408 and time.monotonic() - started < 5, body
    assert json.loads(body)["type"].endswith("request-timeout")

