"""Render a result file as the Markdown tables of bench/README.md (between the result markers).

`python -m bench.report bench/results/<file>.json` rewrites the README from a stored result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.common import ROOT

README = ROOT / "bench" / "README.md"
START = "<!-- results:start -->"
END = "<!-- results:end -->"


def _fmt(x: Any, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}".replace(",", " ")
    if isinstance(x, int):
        return f"{x:,}".replace(",", " ")
    return str(x)


def render(results: dict[str, Any], source: Path | None = None) -> str:
    """The Markdown block for one result file."""
    m = results["machine"]
    lines = [
        f"Run {results['timestamp']} on {m['cpu_count']} CPU ({m['cpu_model']}), {m.get('memory')}, Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}, FastAPI {m['fastapi']}, uvicorn {m['uvicorn']}, commit {m.get('git_head')}; "
        f"load average at start {results['load_average'].get('start')}; total {results.get('total_seconds')} s."
        + (f" Source: `{source.relative_to(ROOT)}`." if source and source.is_relative_to(ROOT) else ""),
        "",
    ]
    targets = results.get("targets", {})
    if targets:
        size = _fmt(results["parameters"]["sizes"][1])
        lines += ["| target (issues 7, 13, 18) | measured | met |", "|---|---|---|"]
        t = targets.get("list_p50_lt_20ms")
        if t:
            lines.append(f"| list p50 < 20 ms at {size} cases (1 client) | {_fmt(t['value_ms'], 2)} ms | {'yes' if t['met'] else '**no**'} |")
        t = targets.get("list_cpu_le_2_5ms")
        if t:
            r = ", ".join(f"{c}: {_fmt(v, 2)}" for c, v in t["ms_per_page"].items())
            lines.append(f"| list server CPU ≤ 2.5 ms per page (by clients) | {r} ms | {'yes' if t['met'] else '**no**'} |")
        t = targets.get("get_p99_le_2x_bare")
        if t:
            lines.append(f"| GET p99 ≤ 2 × bare p99 at {t['clients']} clients | {_fmt(t['get_p99_ms'], 2)} / {_fmt(t['bare_p99_ms'], 2)} ms = "
                         f"{t['value']:.2f} | {'yes' if t['met'] else '**no**'} |")
        t = targets.get("two_workers_ge_1_5x")
        if t:
            lines.append(f"| GET throughput 2 workers ≥ 1.5 × 1 worker | {_fmt(t['rps_2'])} / {_fmt(t['rps_1'])} req/s = {t['value']:.2f} | "
                         f"{'yes' if t['met'] else '**no**'} |")
        t = targets.get("get_ge_50pct_of_bare")
        if t:
            r = ", ".join(f"{c} client{'' if c == '1' else 's'} {v:.0%}" for c, v in t["ratios"].items())
            lines.append(f"| GET ≥ 50% of bare-FastAPI throughput | {r} | {'yes' if t['met'] else '**no**'} |")
        t = targets.get("sweep_ratio_le_1_5")
        if t:
            lines.append(f"| sweep time 100k / 10k ≤ 1.5 | {t['value']:.2f} | {'yes' if t['met'] else '**no**'} |")
        t = targets.get("reminders_ge_half_one_connection")
        if t:
            lines.append(f"| reminders end to end ≥ 0.5 × one SMTP connection (exactly once) | {t['emails_per_s']} / "
                         f"{t['smtp_one_connection_per_s']} e-mails/s = {t['value']:.2f} | {'yes' if t['met'] else '**no**'} |")
        lines.append("")
    api = results.get("api")
    if api and "runs" in api:
        sizes = results["parameters"]["sizes"]
        lines += [f"**(a) API at {_fmt(sizes[1])} cases** — {api['client']} client, {api['duration_s']} s per point after "
                  f"{api['warmup_s']} s warm-up, best of {api.get('rounds', 1)} interleaved round(s); GET body {api['shape']['get_bytes']} B, bare body {api['shape']['bare_bytes']} B, "
                  f"list body {api['shape']['list_bytes']} B ({api['shape']['list_items']} items).", "",
                  "| endpoint | clients | req/s | p50 ms | p99 ms | server CPU ms/req | req/s vs bare |", "|---|---:|---:|---:|---:|---:|---:|"]
        labels = {"bare": "bare FastAPI `/bare/{id}`", "get": "`GET /api/v1/cases/{id}`", "list": f"`GET {api['list_path']}`"}
        for kind in ("bare", "get", "list"):
            for c, r in api["runs"][kind].items():
                ratio = "1.00" if kind == "bare" else f"{api['ratios'][kind][c]:.2f}"
                lines.append(f"| {labels[kind]} | {c} | {_fmt(r['rps'])} | {_fmt(r['p50_ms'], 2)} | {_fmt(r['p99_ms'], 2)} | "
                             f"{_fmt(r.get('server_cpu_ms_per_request'), 2)} | {ratio} |")
        lines.append("")
        search = api.get("search")
        if search:
            lines += ["Text search `GET /api/v1/cases?q=…&limit=25` (same officer, one client, sequential; pg_trgm indexes, migration 0004):", "",
                      "| term | q | items | p50 ms | p99 ms |", "|---|---|---:|---:|---:|"]
            lines += [f"| {name} | `{r['q']}` | {r['items']} | {_fmt(r['p50_ms'], 2)} | {_fmt(r['p99_ms'], 2)} |" for name, r in search.items()]
            lines.append("")
        layers = api.get("layers")
        if layers:
            lines += [f"Where a GET's server time goes ({layers['concurrency']} clients, `bench/layers_app.py`):", "",
                      "| probe | adds | req/s | server CPU ms/req |", "|---|---|---:|---:|"]
            bare_cpu = api["runs"]["bare"].get(str(layers["concurrency"]), {}).get("server_cpu_ms_per_request")
            lines.append(f"| bare FastAPI (other app) | – | {_fmt(api['runs']['bare'].get(str(layers['concurrency']), {}).get('rps'))} | {_fmt(bare_cpu, 2)} |")
            adds = {"nodb": "the service's middleware and error handlers (`async def`)",
                    "token": "bearer token check (`TokenUserId`, signature cached per token)",
                    "read": "one row on the read path (`Reads`, asyncpg): the users row",
                    "get": "instead: user + case in one statement (3 joins) + `CaseOut` + ETag",
                    "session": "for comparison, the write path: `DbSession` + `CurrentUser` (ORM, thread pool), `SELECT 1`, commit",
                    "user": "`CurrentUser`: JWT check + users row (older runs)"}
            for name in ("nodb", "token", "read", "get", "session", "user"):
                r = layers.get(name)
                if r is None:
                    continue
                lines.append(f"| `{'/api/v1/cases/{id}' if name == 'get' else '/bench-layers/' + name}` | {adds[name]} | {_fmt(r['rps'])} | "
                             f"{_fmt(r['server_cpu_ms_per_request'], 2)} |")
            lines.append("")
    w = results.get("workers")
    if w and "runs" in w:
        lines += [f"**(e) Worker processes** — `{w['command']}`, `{w['client']}`, {w['duration_s']} s per point, best of {w['rounds']} "
                  "alternating round(s); server CPU summed over supervisor and workers.", "",
                  "| workers | req/s | p50 ms | p99 ms | server CPU ms/req | rounds req/s |", "|---:|---:|---:|---:|---:|---|"]
        for n, r in w["runs"].items():
            lines.append(f"| {n} | {_fmt(r['rps'])} | {_fmt(r.get('p50_ms'), 2)} | {_fmt(r.get('p99_ms'), 2)} | "
                         f"{_fmt(r.get('server_cpu_ms_per_request'), 2)} | {', '.join(_fmt(x) for x in r.get('rounds_rps', []))} |")
        lines += ["", f"2 workers / 1 worker: **{w['ratio_2_to_1']:.2f}**.", ""]
    docs = results.get("documents")
    if docs:
        s, r = docs["service_generate_store"], docs["raw_render_put"]
        p = docs["service_parts_p50_ms"]
        lines += [f"**(b) Documents** — {docs['iterations']} alternating iterations, agreement template `{docs['template']}` "
                  f"(~{_fmt(docs['service_bytes'] // 1024)} KiB), SeaweedFS S3 on 127.0.0.1.", "",
                  "| path | p50 ms | mean ms | p90 ms |", "|---|---:|---:|---:|",
                  f"| `generate()` + commit (context from DB, sandboxed render, sha256, S3 put, Document row, audit) | "
                  f"{_fmt(s['p50_ms'])} | {_fmt(s['mean_ms'])} | {_fmt(s['p90_ms'])} |",
                  f"| raw `DocxTemplate.render` + `save` + `Minio.put_object` | {_fmt(r['p50_ms'])} | {_fmt(r['mean_ms'])} | {_fmt(r['p90_ms'])} |",
                  f"| **ratio** | **{docs['ratio_p50']:.2f}** | **{docs['ratio_mean']:.2f}** | |", "",
                  f"Inside `generate()` (p50): context from the database {p['build_context']} ms, render {p['render']} ms, "
                  f"S3 put {p['s3_put']} ms.", ""]
    sw = results.get("sweep")
    if sw and "ratio" in sw:
        sizes = results["parameters"]["sizes"]
        lines += [f"**(c) Deadline sweep** — {results['parameters']['due_reminders']} due reminders and "
                  f"{results['parameters']['missed_deadlines']} missed deadlines at both sizes; median of "
                  f"{sw[str(sizes[0])]['repeats']} rolled-back sweeps.", "",
                  "| cases | deadlines | plan ms | claim ms | missed+escalate ms | total ms | SQL statements |", "|---:|---:|---:|---:|---:|---:|---:|"]
        total_deadlines = 0
        for size in sizes:
            r = sw[str(size)]
            total_deadlines += results["seed"][str(size)]["deadlines"]
            md = r["median_ms"]
            lines.append(f"| {_fmt(size)} | {_fmt(total_deadlines)} | {_fmt(md['plan'])} | {_fmt(md['claim'])} | {_fmt(md['missed_escalate'])} | "
                         f"{_fmt(md['total'])} | {r.get('sql_statements', '–')} |")
        lines += [f"| **ratio** | | | | | **{sw['ratio']:.2f}** | |", ""]
    e = results.get("reminders_end_to_end")
    if e:
        lines += [f"**End to end** — {e['received']} of {e['expected']} reminders received by aiosmtpd through the Prefect `deadline_sweep` "
                  f"flow in {e['seconds']} s (**{e['emails_per_s']} e-mails/s**, {len(e['flow_runs'])} flow run(s)"
                  + (f", batches of {e['batch']}" if "batch" in e else "") + f"; Prefect test server "
                  f"start-up {e['prefect_harness_startup_s']} s not included); a second sweep sent nothing more "
                  f"({e['received_after_second_sweep']} received), {e['distinct_message_ids']} distinct Message-IDs: "
                  f"exactly once = {e['exactly_once']}."]
        if "smtp_one_connection" in e:
            o = e["smtp_one_connection"]
            lines += ["", f"Baseline in the same run: {o['emails']} plain messages over one persistent smtplib connection to the same "
                      f"server in {o['seconds']} s (**{o['emails_per_s']}/s**); the flow reaches "
                      f"**{e['ratio_to_one_connection']:.2f}** of it."]
        if "service_path_without_prefect" in e:
            w, f = e["service_path_without_prefect"], e["smtp_only"]
            lines += ["", f"For comparison, the same {w['emails']} reminders through the service functions without Prefect "
                      f"(plan, claim, `reminder_emails`, sends over one connection per batch, sent-log, fold; rolled back): "
                      f"{w['seconds']} s ({w['emails_per_s']}/s); rendered e-mails through the mailer with a new connection each: "
                      f"{f['seconds']} s ({f['emails_per_s']}/s)."]
        lines.append("")
    if results.get("errors"):
        lines += ["Errors: " + json.dumps(results["errors"], ensure_ascii=False), ""]
    return "\n".join(lines)


def update_readme(results: dict[str, Any], source: Path | None = None, readme: Path = README) -> None:
    """Replace the block between the result markers."""
    text = readme.read_text()
    head, sep, rest = text.partition(START)
    if not sep:
        raise RuntimeError(f"{readme} has no {START} marker")
    _, sep2, tail = rest.partition(END)
    if not sep2:
        raise RuntimeError(f"{readme} has no {END} marker")
    readme.write_text(f"{head}{START}\n{render(results, source)}\n{END}{tail}")


if __name__ == "__main__":
    path = Path(sys.argv[1])
    update_readme(json.loads(path.read_text()), path.resolve())
    print(f"updated {README.relative_to(ROOT)} from {path}")
