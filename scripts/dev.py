"""Run the whole service locally: Prefect server (SQLite), the flows and the API, all on 127.0.0.1.

Usage (what `make dev` runs after migrating and seeding): .venv/bin/python scripts/dev.py
Ctrl-C stops all three. Ports: IOP_DEV_API_PORT (8000), IOP_DEV_PREFECT_PORT (4200); Prefect's
database and log live in IOP_DEV_PREFECT_HOME (./var/prefect). Without IOP_SIGNING_PKCS12_PATH a self-signed test CA and
signing certificate are made once under var/signing (IOP_DEV_SIGNING_DIR) and configured for the processes.
`--no-prefect` runs only the API (the outbox then waits until a flow process runs).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> bool:
    """Poll `url` until it answers 200, the process dies or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback only
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def _stop(procs: list[subprocess.Popen]) -> None:
    """Stop children newest first; kill what does not stop within 10 s."""
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 10
    for p in reversed(procs):
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt so the children are stopped."""
    raise KeyboardInterrupt


def main() -> int:
    """Start Prefect, the flows and the API; exit when any of them exits."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-prefect", action="store_true", help="only the API")
    args = ap.parse_args()
    # SIGTERM (e.g. from a process manager) must also stop the children, like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    api_port = int(os.environ.get("IOP_DEV_API_PORT", "8000"))
    prefect_port = int(os.environ.get("IOP_DEV_PREFECT_PORT", "4200"))
    prefect_home = Path(os.environ.get("IOP_DEV_PREFECT_HOME", ROOT / "var" / "prefect"))
    prefect_home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(prefect_port),
        "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api",
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{prefect_port}/api",
        "PREFECT_LOGGING_LEVEL": env.get("PREFECT_LOGGING_LEVEL", "WARNING"),
    })
    # Signing works out of the box: a self-signed test CA and signing certificate under var/signing (made once), unless
    # a key is configured (IOP_SIGNING_PKCS12_PATH, e.g. the municipality's own e-seal certificate).
    if not env.get("IOP_SIGNING_PKCS12_PATH"):
        from service.signing.keys import ensure_dev_pki

        pki = ensure_dev_pki(Path(os.environ.get("IOP_DEV_SIGNING_DIR", ROOT / "var" / "signing")))
        env.update({"IOP_SIGNING_PKCS12_PATH": str(pki.pkcs12), "IOP_SIGNING_PKCS12_PASSWORD": pki.password,
                    "IOP_SIGNING_TRUST_ROOTS": json.dumps([str(pki.ca_pem)])})
        print(f"  Signeringsnyckel (test-CA, ej för produktion) / test signing key: {pki.pkcs12}", flush=True)
    # Links in e-mails (reminders, decisions) point at the API actually started, unless a public address is configured.
    env.setdefault("IOP_PUBLIC_BASE_URL", f"http://127.0.0.1:{api_port}")
    if args.no_prefect:
        env.pop("PREFECT_API_URL")
    procs: list[subprocess.Popen] = []
    try:
        if not args.no_prefect:
            # The server's own log goes to a file: its SQLite start-up retries are noise next to the API's log.
            server_log = (prefect_home / "server.log").open("ab")
            server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(prefect_port)],
                                      cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT)
            server_log.close()  # the child has its own copy of the descriptor
            procs.append(server)
            if _wait_http(f"http://127.0.0.1:{prefect_port}/api/health", server, 90):
                procs.append(subprocess.Popen([sys.executable, "-m", "flows.serve"], cwd=ROOT, env=env))
            else:
                # The API must still come up: events wait in the outbox until flows run.
                print(f"\n  VARNING: Prefect-servern startade inte på port {prefect_port} (upptagen? sätt IOP_DEV_PREFECT_PORT); "
                      f"API:t startar utan flöden.\n  WARNING: Prefect did not start, see {prefect_home / 'server.log'}; "
                      "running the API without flows.\n", file=sys.stderr, flush=True)
                _stop([server])
                procs.remove(server)
                args.no_prefect = True
                env.pop("PREFECT_API_URL")
        # --no-proxy-headers: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1, i.e. from anyone on this
        # machine; the app decides itself whom to believe (IOP_TRUSTED_PROXIES, service/auth/ratelimit.py).
        api = subprocess.Popen([str(BIN / "uvicorn"), "service.main:app", "--host", "127.0.0.1", "--port", str(api_port), "--no-proxy-headers"],
                               cwd=ROOT, env=env)
        procs.append(api)
        if _wait_http(f"http://127.0.0.1:{api_port}/health", api, 60):
            print(f"\n  Webb / web UI:   http://127.0.0.1:{api_port}/")
            print(f"  API (OpenAPI):   http://127.0.0.1:{api_port}/docs")
            print(f"  Länkar i e-post: {env['IOP_PUBLIC_BASE_URL']}/")
            if not args.no_prefect:
                print(f"  Prefect UI:      http://127.0.0.1:{prefect_port}/  (flöden / flows: deadline_sweep, process_outbox, …)")
                print(f"  Prefect-logg:    {prefect_home / 'server.log'}")
            print("  Stoppa / stop:   Ctrl-C\n", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        failed = [p.args for p in procs if p.poll() not in (None, 0)]
        if failed:
            print(f"avslutades / exited: {failed}", file=sys.stderr)
        return 1 if failed else 0
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(procs)


if __name__ == "__main__":
    sys.exit(main())
