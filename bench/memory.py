"""API memory under parallel large uploads and downloads: RSS of the real uvicorn process before, at peak and after.

    .venv/bin/python -m bench.memory                      # 8 parallel x 24 MB uploads, 3 rounds, SeaweedFS S3
    .venv/bin/python -m bench.memory --store file         # the filesystem store
    .venv/bin/python -m bench.memory --app-dir /tmp/old   # the same against another checkout (e.g. `git archive`)

Starts SeaweedFS (like the tests, 127.0.0.1 only) and `uvicorn service.main:app` from ``--app-dir`` on a migrated
SQLite database, seeds an officer and one case per upload slot, then runs rounds of parallel uploads followed by a
download of each. RSS (VmRSS) and peak (VmHWM) are read from /proc of the server process; the idle RSS after the last
round shows what is given back. Not a test: a measurement, printed as JSON.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SEED = """
import json, sys
sys.path.insert(0, "tests")
from sqlalchemy.orm import Session
from factories import World, auth, case
from service.cases.stages import Stage
from service.db import make_engine
from service.migrate import upgrade
url, n = sys.argv[1], int(sys.argv[2])
upgrade(url)
with Session(make_engine(url)) as s:
    w = World(s)
    cases = [case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id).id for _ in range(n)]
    s.commit()
    print(json.dumps({"cases": cases, "headers": auth(w.officer)}))
"""


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    """Run the measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="checkout whose service is measured")
    parser.add_argument("--store", choices=("s3", "file"), default="s3")
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--size-mb", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--malloc-arena-max", type=int, default=None, help="MALLOC_ARENA_MAX for the server (as in the Dockerfile)")
    args = parser.parse_args()
    app_dir = args.app_dir.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="iop-bench-memory-"))
    env = {**os.environ, "IOP_ENV": "test", "IOP_SECRET_KEY": secrets.token_hex(32), "PYTHONPATH": str(app_dir),
           "IOP_DATABASE_URL": f"sqlite:///{tmp / 'iop.db'}", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "IOP_UPLOAD_LIMIT_BYTES": str((args.size_mb + 1) * 1024 * 1024)}
    if args.malloc_arena_max:
        env["MALLOC_ARENA_MAX"] = str(args.malloc_arena_max)
    weed = None
    if args.store == "s3":
        sys.path.insert(0, str(ROOT))
        from tests.fixtures.s3 import start_seaweed

        weed = start_seaweed(tmp / "weed")
        env.update({"IOP_STORAGE_URL": "s3://bench-memory", "IOP_S3_ENDPOINT": weed.endpoint,
                    "IOP_S3_ACCESS_KEY": weed.access_key, "IOP_S3_SECRET_KEY": weed.secret_key})
    else:
        env["IOP_STORAGE_URL"] = f"file://{tmp / 'objects'}"
    seeded = json.loads(subprocess.run([sys.executable, "-c", SEED, env["IOP_DATABASE_URL"], str(args.parallel)], cwd=app_dir,
                                       env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port),
                               "--no-access-log"], cwd=app_dir, env=env)
    base = f"http://127.0.0.1:{port}"
    result: dict = {"app_dir": str(app_dir), "store": args.store, "parallel": args.parallel, "size_mb": args.size_mb,
                    "rounds": args.rounds, "malloc_arena_max": args.malloc_arena_max, "statuses": {}}
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        httpx.get(f"{base}/ready", timeout=10)  # warm up imports and the store
        result["rss_start_kib"] = rss_kib(server.pid)["VmRSS"]
        blobs = [b"%PDF-1.4\n" + os.urandom(args.size_mb * 1024 * 1024 - 9) for _ in range(args.parallel)]
        headers = seeded["headers"]

        def upload_and_download(i: int) -> str:
            with httpx.Client(timeout=120) as client:
                r = client.post(f"{base}/api/v1/cases/{seeded['cases'][i]}/attachments", headers=headers,
                                files={"file": (f"bilaga{i}.pdf", blobs[i], "application/pdf")})
                if r.status_code != 201:
                    return f"upload {r.status_code}"
                doc = r.json()
                d = client.get(f"{base}/api/v1/cases/{doc['case_id']}/documents/{doc['id']}/content", headers=headers)
                ok = d.status_code == 200 and hashlib.sha256(d.content).hexdigest() == doc["sha256"]
                return "ok" if ok else f"download {d.status_code}"

        rounds = []
        for _ in range(args.rounds):
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
                outcomes = list(pool.map(upload_and_download, range(args.parallel)))
            for o in outcomes:
                result["statuses"][o] = result["statuses"].get(o, 0) + 1
            rounds.append({"seconds": round(time.monotonic() - started, 1), **rss_kib(server.pid)})
        time.sleep(5)  # idle: what the process keeps
        result["rounds_rss_kib"] = rounds
        result["rss_idle_after_kib"] = rss_kib(server.pid)["VmRSS"]
        result["rss_peak_kib"] = rss_kib(server.pid)["VmHWM"]
    finally:
        server.terminate()
        server.wait(10)
        if weed is not None:
            weed.kill()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
