"""Large parallel puts to a healthy but slow S3: the read timeout grows with the body, only an outage is unavailable.

The server is a real SeaweedFS behind a real TCP proxy that takes in everything at once and passes it on at a fixed
rate shared by all connections: what a busy server on a shared link looks like (eight 24 MB uploads to one SeaweedFS
on two cores took seconds each to answer). A fixed 3 s read timeout called that an outage.
"""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from storage.base import StorageUnavailable
from storage.s3 import S3Store, make_http_client
from tests.fixtures.s3 import HOST, SeaweedServer

MIB = 1024 * 1024


class Throttle:
    """A token bucket shared by every connection of a proxy (bytes per second)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def take(self, n: int) -> None:
        """Wait until ``n`` more bytes may pass."""
        with self._lock:
            start = max(self._next, time.monotonic())
            self._next = start + n / self.rate
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class SlowLink:
    """127.0.0.1 proxy to an S3 endpoint: client bytes buffered without limit, forwarded at ``rate`` bytes/s in all."""

    def __init__(self, target: str, rate: float) -> None:
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.throttle = Throttle(rate)
        self.listener = socket.create_server((HOST, 0))
        self.endpoint = f"{HOST}:{self.listener.getsockname()[1]}"
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            buffered: collections.deque[bytes] = collections.deque()
            ready = threading.Condition()
            threading.Thread(target=self._take_in, args=(client, buffered, ready), daemon=True).start()
            threading.Thread(target=self._pass_on, args=(server, buffered, ready), daemon=True).start()
            threading.Thread(target=self._answer, args=(server, client), daemon=True).start()

    @staticmethod
    def _take_in(client: socket.socket, buffered: collections.deque, ready: threading.Condition) -> None:
        """Read the client as fast as it sends (the request body lands in our buffer, not in the client's socket)."""
        while True:
            try:
                data = client.recv(256 * 1024)
            except OSError:
                data = b""
            with ready:
                buffered.append(data)
                ready.notify()
            if not data:
                return

    def _pass_on(self, server: socket.socket, buffered: collections.deque, ready: threading.Condition) -> None:
        """Forward to the server at the shared rate."""
        while True:
            with ready:
                while not buffered:
                    ready.wait()
                data = buffered.popleft()
            if not data:
                try:
                    server.shutdown(socket.SHUT_WR)
                except OSError:
                    pass  # the server side is gone already
                return
            for start in range(0, len(data), 64 * 1024):
                piece = data[start:start + 64 * 1024]
                self.throttle.take(len(piece))
                try:
                    server.sendall(piece)
                except OSError:
                    return

    @staticmethod
    def _answer(server: socket.socket, client: socket.socket) -> None:
        while True:
            try:
                data = server.recv(256 * 1024)
                if not data:
                    break
                client.sendall(data)
            except OSError:
                break
        for sock in (client, server):
            try:
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        """Stop accepting."""
        self._closing = True
        self.listener.close()


@pytest.fixture
def slow_link(seaweed_server: SeaweedServer) -> Iterator[SlowLink]:
    """The shared SeaweedFS behind a 12 MiB/s link."""
    link = SlowLink(seaweed_server.endpoint, rate=12 * MIB)
    yield link
    link.close()


def test_parallel_large_puts_to_a_slow_healthy_server_all_succeed(slow_link: SlowLink, seaweed_server: SeaweedServer,
                                                                  s3_bucket: str) -> None:
    store = S3Store(slow_link.endpoint, seaweed_server.access_key, seaweed_server.secret_key, s3_bucket)
    store.put("warm-up", b"x", content_type="text/plain")  # the bucket exists before the clock matters
    blobs = [os.urandom(12 * MIB) for _ in range(8)]
    barrier = threading.Barrier(len(blobs))

    def upload(i: int) -> str:
        barrier.wait()
        return store.put(f"cases/{i}/attachment/v1/big.pdf", blobs[i], content_type="application/pdf").version_id

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(blobs)) as pool:
        outcomes = [f.exception() or f.result() for f in [pool.submit(upload, i) for i in range(len(blobs))]]
    elapsed = time.monotonic() - started
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert not failures, f"{len(failures)} of 8 puts failed after {elapsed:.1f} s: {failures[0]!r}"
    # The link really was slow: 96 MiB at 12 MiB/s is 8 s, far past a fixed 3 s read timeout.
    assert elapsed > 6
    direct = S3Store(seaweed_server.endpoint, seaweed_server.access_key, seaweed_server.secret_key, s3_bucket)
    for i, (blob, version_id) in enumerate(zip(blobs, outcomes, strict=True)):
        info = direct.stat(f"cases/{i}/attachment/v1/big.pdf", version_id)
        assert info.size == len(blob) and info.sha256 == hashlib.sha256(blob).hexdigest()


def test_a_silent_server_is_still_an_outage_for_small_requests() -> None:
    # A listener that accepts and never answers: a frozen S3. Small requests keep the short timeout.
    silent = socket.create_server((HOST, 0))
    try:
        store = S3Store(f"{HOST}:{silent.getsockname()[1]}", "k", "s" * 20, "frozen",
                        http_client=make_http_client(connect_timeout=1.0, read_timeout=1.0))
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            store.stat("cases/1/a.pdf")
        assert time.monotonic() - started < 4
    finally:
        silent.close()
