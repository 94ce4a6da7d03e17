"""An aiosmtpd server in a process of its own that appends each accepted message's Message-ID to a file.

The end-to-end part sends to it: a mail server never shares the sender's interpreter (in one process the server's
Python work and the sender's would take turns on one GIL, and whichever side does more work pays for the other).
It reads only the headers of a message, as a relay would before queueing it, and answers 250 once the line is
written. `python -m bench.smtp_sink PORT FILE` runs it on 127.0.0.1 until terminated.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


class _Handler:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.parser = BytesHeaderParser(policy=compat32)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ANN401, ARG002
        headers = self.parser.parsebytes(envelope.original_content or envelope.content)
        with self.out.open("a") as f:
            f.write(f"{headers['Message-ID']}\n")
        return "250 Message accepted for delivery"


def serve(port: int, out: Path) -> None:
    """Run until SIGTERM."""
    from aiosmtpd.controller import Controller

    controller = Controller(_Handler(out), hostname=HOST, port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


class SmtpSink:
    """The sink as a child process: start, count and list what arrived, stop (by the pid it started)."""

    def __init__(self, out: Path) -> None:
        self.host = HOST
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            self.port = sock.getsockname()[1]
        self.out = out
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """SMTP URL for the service's mailer."""
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> None:
        """Spawn the server and wait until it accepts connections."""
        self.out.write_text("")
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", str(self.port), str(self.out)], env=os.environ.copy())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("SMTP sink did not start")

    def stop(self) -> None:
        """Terminate the child it started."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def message_ids(self) -> list[str]:
        """Message-IDs received so far, in order."""
        return [line for line in self.out.read_text().splitlines() if line]

    def clear(self) -> None:
        """Forget what arrived (the server appends, so truncating is safe between runs)."""
        self.out.write_text("")

    def wait_for(self, count: int, timeout: float = 60) -> None:
        """Block until count messages arrived."""
        deadline = time.monotonic() + timeout
        while len(self.message_ids()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.message_ids())} of {count} messages arrived")
            time.sleep(0.01)


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]))
