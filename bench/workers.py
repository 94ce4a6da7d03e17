"""(e) Worker processes: case GET throughput of `python -m service.serve` with one and with two workers, same run.

Each configuration runs as the production entry point (`IOP_WEB_CONCURRENCY=1`, then `=2`; uvicorn's own worker
supervisor, access log as in production) against the benchmark database and is loaded by `wrk` (Debian package: C,
one thread, `--latency`) with `CLIENTS` keep-alive connections over the same random visible case ids and bearer
token as part (a). The Python load generator of part (a) is not used here: on two cores it spends about half as much
CPU per request as the server and would take the second worker's core. Server CPU is summed over the process group
(supervisor and workers). Configurations alternate (1, 2, 1, 2, …) and the best round of each is reported, so a
drift in machine load hits both alike. Every response must be 2xx (wrk's "Non-2xx" count is checked).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.api import Server
from bench.common import HOST, SAFE_ENV

CLIENTS = 32
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _group_cpu_seconds(pgid: int) -> float:
    """user+system CPU of every live process in a process group (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class ServeProcess(Server):
    """`python -m service.serve` (IOP_WEB_CONCURRENCY workers in env) on a free loopback port, in a process group of its own."""

    def command(self) -> list[str]:
        """The production entry point instead of a bare uvicorn command line."""
        return [sys.executable, "-m", "service.serve", "--host", HOST, "--port", str(self.port)]

    def cpu_seconds(self) -> float:
        """CPU of the supervisor and its workers so far."""
        assert self.process is not None
        return _group_cpu_seconds(self.process.pid)


def _script(paths: list[str], headers: dict[str, str], directory: Path) -> Path:
    """A wrk Lua script cycling through the paths with the headers."""
    lua = ["paths = {", *(f'  "{p}",' for p in paths), "}", "i = 0"]
    lua += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    lua += ["request = function()", "  i = i + 1", "  return wrk.format(\"GET\", paths[(i % #paths) + 1])", "end"]
    path = directory / "get.lua"
    path.write_text("\n".join(lua) + "\n")
    return path


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    if not m:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return round(float(m.group(1)) * _UNITS[m.group(2)], 3)


def parse_wrk(out: str) -> dict[str, Any]:
    """Requests/s, request count, latency percentiles and non-2xx count from `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in ([\d.]+)(\w+),", out)
    if not rps or not count:
        raise RuntimeError(f"could not read wrk output: {out[-1500:]}")
    pct = {f"p{p}_ms": _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.MULTILINE)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(rps.group(1)), "requests": int(count.group(1)), **pct, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0}


def _wrk(port: int, script: Path, seconds: float, clients: int) -> dict[str, Any]:
    # wrk takes whole seconds ("1.5s" is refused).
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script), f"http://{HOST}:{port}/"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, env={**os.environ, **SAFE_ENV})
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout)[-1500:]}")
    return parse_wrk(done.stdout)


def run(*, db_url: str, secret: str, officer_id: int, officer_role: str, case_ids: list[int], warmup: float, duration: float,
        rounds: int = 2, clients: int = CLIENTS, **_: Any) -> dict[str, Any]:
    """GET throughput with 1 and 2 workers, alternating, best round of each; the ratio 2 / 1."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian package wrk; `make bench` installs it)")
    from service.auth.security import create_token
    from service.config import Settings

    token, _ = create_token(officer_id, officer_role, Settings(secret_key=secret, database_url=db_url))
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    env = {"IOP_DATABASE_URL": db_url, "IOP_SECRET_KEY": secret, "IOP_ENV": "test"}
    tmp = Path(tempfile.mkdtemp(prefix="iop-bench-wrk-"))
    script = _script([f"/api/v1/cases/{i}" for i in case_ids], headers, tmp)
    out: dict[str, Any] = {"command": "python -m service.serve (IOP_WEB_CONCURRENCY=n)", "client": f"wrk -t1 -c{clients} --latency",
                           "clients": clients, "duration_s": duration, "rounds": rounds, "runs": {}}
    try:
        for rnd in range(rounds):
            for n in (1, 2):
                srv = ServeProcess("service.main:app", {**env, "IOP_WEB_CONCURRENCY": str(n)})
                try:
                    srv.start()
                    r = httpx.get(f"http://{HOST}:{srv.port}/api/v1/cases/{case_ids[0]}", headers=headers, timeout=10)
                    if r.status_code != 200:
                        raise RuntimeError(f"GET answered {r.status_code}: {r.text[:300]}")
                    _wrk(srv.port, script, max(warmup, 1.0), clients)  # warm: every worker's pools and caches
                    before = srv.cpu_seconds()
                    res = _wrk(srv.port, script, duration, clients)
                    spent = srv.cpu_seconds() - before
                finally:
                    srv.stop()
                if res["non_2xx"] or res["socket_errors"]:
                    raise RuntimeError(f"{n} worker(s): {res['non_2xx']} non-2xx answers, {res['socket_errors']} socket errors")
                res["server_cpu_ms_per_request"] = round(spent / res["requests"] * 1000, 3) if res["requests"] else None
                print(f"  {n} worker(s) round {rnd + 1}: {res['rps']:8.1f} req/s  p50 {res.get('p50_ms')} ms  p99 {res.get('p99_ms')} ms"
                      f"  server CPU {res['server_cpu_ms_per_request']} ms/req", flush=True)
                best = out["runs"].get(str(n))
                rounds_rps = [*(best or {}).get("rounds_rps", []), res["rps"]]
                if best is None or res["rps"] > best["rps"]:
                    best = res
                best["rounds_rps"] = rounds_rps
                out["runs"][str(n)] = best
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["ratio_2_to_1"] = round(out["runs"]["2"]["rps"] / out["runs"]["1"]["rps"], 3)
    return out
