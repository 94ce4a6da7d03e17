"""Run the benchmark: `python -m bench [--quick]` (or `make bench`).

One run, one throwaway PostgreSQL database (`iop_bench_<random>`, migrated by Alembic,
dropped at the end):

1. seed the first size (10k cases) with the due set (1,000 due reminders, 100 missed deadlines)
   and time the deadline sweep;
2. grow the same database to the second size (100k cases, same due set) and time it again;
3. API: case GET and filtered list vs. a bare FastAPI endpoint at 1/8/32 clients (100k cases);
4. documents: generate+store agreement vs. raw docxtpl render + raw S3 put (SeaweedFS);
5. end to end: the due reminders delivered by the Prefect flow to an aiosmtpd server.

Results go to `bench/results/<timestamp>.json`; a full run also rewrites the results table in
`bench/README.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, SAFE_ENV, machine_info, now_iso, prepare_environment, throwaway_database

os.environ.update(SAFE_ENV)

TARGETS = {
    "list_p50_ms_max": 20.0,  # single client, 100k cases
    "get_throughput_ratio_min": 0.5,  # vs. bare FastAPI, every concurrency
    "sweep_ratio_max": 1.5,  # 100k / 10k, same due count
    "reminders_vs_one_connection_min": 0.5,  # issue 13: flow e-mails/s vs. one persistent SMTP connection
    "get_p99_vs_bare_max": 2.0,  # issue 18: GET p99 at the most clients vs. bare p99, same run
    "list_cpu_ms_max": 2.5,  # issue 18: list server CPU per 50-item page, at every concurrency
    "two_workers_ratio_min": 1.5,  # issue 18: GET req/s with 2 workers vs. 1, same run
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short runs (smoke test, ~2 min); the README table is left alone")
    p.add_argument("--sizes", default="10000,100000", help="two case counts, small,large (default 10000,100000)")
    p.add_argument("--due", type=int, default=1000, help="due reminders, the same at both sizes (default 1000)")
    p.add_argument("--missed", type=int, default=100, help="open deadlines past due, the same at both sizes (default 100)")
    p.add_argument("--concurrency", default="1,8,32", help="API client counts (default 1,8,32)")
    p.add_argument("--duration", type=float, help="seconds measured per API point (default 5, quick 1.5)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per API point (default 1, quick 0.5)")
    p.add_argument("--client", choices=["raw", "httpx"], default="raw", help="API load generator (default raw asyncio HTTP/1.1)")
    p.add_argument("--rounds", type=int, help="API rounds per point, best reported (default 2, quick 1)")
    p.add_argument("--doc-iterations", type=int, help="generate/raw pairs (default 30, quick 8)")
    p.add_argument("--sweep-repeats", type=int, help="rolled-back sweeps per size (default 5, quick 2)")
    p.add_argument("--parts", default="sweep,api,workers,documents,e2e", help="comma list of parts to run (default all)")
    p.add_argument("--keep-db", action="store_true", help="do not drop the benchmark database")
    p.add_argument("--no-readme", action="store_true", help="do not rewrite the table in bench/README.md")
    p.add_argument("--output", type=Path, help="result file (default bench/results/<timestamp>.json)")
    a = p.parse_args(argv)
    a.duration = a.duration or (1.5 if a.quick else 5.0)
    a.warmup = a.warmup or (0.5 if a.quick else 1.0)
    a.doc_iterations = a.doc_iterations or (8 if a.quick else 30)
    a.sweep_repeats = a.sweep_repeats or (2 if a.quick else 5)
    a.rounds = a.rounds or (1 if a.quick else 2)
    a.size_list = [int(x) for x in a.sizes.split(",")]
    a.concurrency_list = [int(x) for x in a.concurrency.split(",")]
    a.part_set = set(a.parts.split(","))
    if len(a.size_list) != 2 or a.size_list[0] >= a.size_list[1]:
        p.error("--sizes takes two increasing numbers")
    return a


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def api_subjects(engine) -> dict[str, Any]:  # noqa: ANN001
    """The officer who loads the API, the department it filters on and ids of cases it may see."""
    from sqlalchemy import text

    with engine.connect() as c:
        dep = c.execute(text("SELECT id FROM departments ORDER BY id LIMIT 1")).scalar_one()
        officer = c.execute(text("SELECT id FROM users WHERE role = 'officer' AND department_id = :d ORDER BY id LIMIT 1"), {"d": dep}).scalar_one()
        ids = [r[0] for r in c.execute(text("SELECT id FROM cases WHERE department_id = :d AND stage <> 'draft' ORDER BY md5(id::text) LIMIT 2000"),
                                       {"d": dep})]
    return {"department_id": dep, "officer_id": officer, "case_ids": ids}


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    """Targets from issue 7, each with the measured number."""
    out: dict[str, Any] = {}
    api = results.get("api")
    if api and "runs" in api:
        p50 = api["runs"]["list"].get("1", {}).get("p50_ms")
        out["list_p50_lt_20ms"] = {"value_ms": p50, "target_ms": TARGETS["list_p50_ms_max"], "met": p50 is not None and p50 < TARGETS["list_p50_ms_max"]}
        ratios = api["ratios"]["get"]
        worst = min(ratios.values())
        out["get_ge_50pct_of_bare"] = {"ratios": ratios, "worst": worst, "target": TARGETS["get_throughput_ratio_min"],
                                       "met": worst >= TARGETS["get_throughput_ratio_min"]}
        top = max(api["runs"]["bare"], key=int)
        bare_p99, get_p99 = api["runs"]["bare"][top]["p99_ms"], api["runs"]["get"][top]["p99_ms"]
        out["get_p99_le_2x_bare"] = {"clients": int(top), "get_p99_ms": get_p99, "bare_p99_ms": bare_p99, "value": round(get_p99 / bare_p99, 2),
                                     "target": TARGETS["get_p99_vs_bare_max"], "met": get_p99 <= TARGETS["get_p99_vs_bare_max"] * bare_p99}
        cpu = {c: r.get("server_cpu_ms_per_request") for c, r in api["runs"]["list"].items()}
        out["list_cpu_le_2_5ms"] = {"ms_per_page": cpu, "target_ms": TARGETS["list_cpu_ms_max"],
                                    "met": all(v is not None and v <= TARGETS["list_cpu_ms_max"] for v in cpu.values())}
    w = results.get("workers")
    if w and "ratio_2_to_1" in w:
        out["two_workers_ge_1_5x"] = {"value": w["ratio_2_to_1"], "rps_1": w["runs"]["1"]["rps"], "rps_2": w["runs"]["2"]["rps"],
                                      "target": TARGETS["two_workers_ratio_min"], "met": w["ratio_2_to_1"] >= TARGETS["two_workers_ratio_min"]}
    sw = results.get("sweep")
    if sw and "ratio" in sw:
        out["sweep_ratio_le_1_5"] = {"value": sw["ratio"], "target": TARGETS["sweep_ratio_max"], "met": sw["ratio"] <= TARGETS["sweep_ratio_max"]}
    e = results.get("reminders_end_to_end")
    if e and "smtp_one_connection_per_s" in e:
        ratio = e["ratio_to_one_connection"]
        out["reminders_ge_half_one_connection"] = {"value": ratio, "emails_per_s": e["emails_per_s"],
                                                   "smtp_one_connection_per_s": e["smtp_one_connection_per_s"],
                                                   "target": TARGETS["reminders_vs_one_connection_min"],
                                                   "met": e["exactly_once"] and ratio >= TARGETS["reminders_vs_one_connection_min"]}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    small, large = args.size_list
    started = time.perf_counter()
    results: dict[str, Any] = {
        "timestamp": now_iso(),
        "quick": args.quick,
        "machine": machine_info(),
        "parameters": {"sizes": args.size_list, "due_reminders": args.due, "missed_deadlines": args.missed,
                       "concurrency": args.concurrency_list, "duration_s": args.duration, "warmup_s": args.warmup,
                       "client": args.client, "rounds": args.rounds, "doc_iterations": args.doc_iterations, "sweep_repeats": args.sweep_repeats,
                       "parts": sorted(args.part_set)},
        "load_average": {"start": _load()},
        "errors": {},
    }
    log(f"machine: {results['machine']['cpu_count']} CPU, Python {results['machine']['python']}, PostgreSQL {results['machine']['postgresql']}")
    with throwaway_database(keep=args.keep_db) as url:
        secret = prepare_environment(url)
        from service.db import get_engine

        from bench import seed as seeding

        engine = get_engine()
        seeder = seeding.Seeder(engine)
        seeder.base()
        log(f"seeding {small:,} cases ({args.due} due reminders, {args.missed} missed deadlines)")
        first = seeder.add_cases(small, due=args.due, missed=args.missed, total_planned=large)
        results["seed"] = {str(small): vars(first)}
        log(f"  {first.cases:,} cases, {first.deadlines:,} deadlines, {first.reminders:,} reminders in {first.seconds:.1f}s")
        from bench import sweep

        sweep_kw = {"repeats": args.sweep_repeats, "batch": max(args.due, 1), "expect_due": args.due, "expect_missed": args.missed}
        if "sweep" in args.part_set:
            log(f"deadline sweep at {small:,} cases")
            results["sweep"] = {str(small): sweep.time_sweep(**sweep_kw)}
            results["sweep"][str(small)]["sql_statements"] = sweep.count_sweep_queries(sweep_kw["batch"])
            log(f"  median {results['sweep'][str(small)]['median_ms']}")
        log(f"growing to {large:,} cases (no further due work)")
        second = seeder.add_cases(large - small, total_planned=large)
        results["seed"][str(large)] = vars(second)
        log(f"  +{second.cases:,} cases, {second.deadlines:,} deadlines, {second.reminders:,} reminders in {second.seconds:.1f}s")
        if "sweep" in args.part_set:
            log(f"deadline sweep at {large:,} cases")
            results["sweep"][str(large)] = sweep.time_sweep(**sweep_kw)
            results["sweep"][str(large)]["sql_statements"] = sweep.count_sweep_queries(sweep_kw["batch"])
            a, b = results["sweep"][str(small)]["median_ms"]["total"], results["sweep"][str(large)]["median_ms"]["total"]
            results["sweep"]["ratio"] = round(b / a, 3)
            log(f"  median {results['sweep'][str(large)]['median_ms']}  ratio {results['sweep']['ratio']}")
        if "api" in args.part_set:
            from bench import api

            log(f"API at {large:,} cases: bare / GET / list, clients {args.concurrency_list}, {args.duration}s each ({args.client} client)")
            results["load_average"]["before_api"] = _load()
            try:
                results["api"] = api.run(db_url=url, secret=secret, officer_role="officer", concurrencies=args.concurrency_list,
                                         warmup=args.warmup, duration=args.duration, client_kind=args.client, rounds=args.rounds,
                                         **api_subjects(engine))
                log(f"  throughput ratio vs bare: {results['api']['ratios']}")
            except Exception as exc:  # noqa: BLE001 - record and go on with the other parts
                results["errors"]["api"] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
        if "workers" in args.part_set:
            from bench import workers

            log(f"API with 1 and 2 worker processes at {large:,} cases: GET, wrk with {workers.CLIENTS} connections")
            results["load_average"]["before_workers"] = _load()
            try:
                results["workers"] = workers.run(db_url=url, secret=secret, officer_role="officer", warmup=args.warmup, duration=args.duration,
                                                 rounds=args.rounds, **api_subjects(engine))
                log(f"  2 workers / 1 worker: {results['workers']['ratio_2_to_1']}")
            except Exception as exc:  # noqa: BLE001 - record and go on with the other parts
                results["errors"]["workers"] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
        if "documents" in args.part_set:
            from bench import documents

            log(f"documents: {args.doc_iterations} x generate+store vs raw render+put (SeaweedFS S3)")
            results["load_average"]["before_documents"] = _load()
            try:
                results["documents"] = documents.run(iterations=args.doc_iterations)
                d = results["documents"]
                log(f"  service p50 {d['service_generate_store']['p50_ms']} ms, raw p50 {d['raw_render_put']['p50_ms']} ms, ratio {d['ratio_p50']}")
            except Exception as exc:  # noqa: BLE001
                results["errors"]["documents"] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
        if "e2e" in args.part_set:
            log(f"end to end: {args.due} due reminders through the Prefect flow to aiosmtpd")
            results["load_average"]["before_e2e"] = _load()
            try:
                results["reminders_end_to_end"] = sweep.end_to_end(expect=args.due)
                e = results["reminders_end_to_end"]
                log(f"  {e['received']} received in {e['seconds']}s ({e['emails_per_s']}/s; one SMTP connection "
                    f"{e['smtp_one_connection_per_s']}/s, ratio {e['ratio_to_one_connection']}), exactly once: {e['exactly_once']}")
            except Exception as exc:  # noqa: BLE001
                results["errors"]["reminders_end_to_end"] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
        engine.dispose()
    results["load_average"]["end"] = _load()
    results["targets"] = evaluate(results)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.output or RESULTS / f"{results['timestamp'].replace(':', '').replace('+0000', 'Z')}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    log(f"results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if not args.quick and not args.no_readme and not results["errors"]:
        from bench.report import update_readme

        update_readme(results, out)
        log("bench/README.md table updated")
    for name, t in results["targets"].items():
        log(f"target {name}: {'MET' if t['met'] else 'NOT MET'} ({ {k: v for k, v in t.items() if k != 'met'} })")
    log(f"done in {results['total_seconds']}s")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
