"""(c) Deadline sweep: time at 10k vs 100k cases with the same due work, and 1,000 reminders end to end.

Sweep timing runs the three service functions `flows/deadline_sweep.py` calls, in one
transaction that is rolled back afterwards so every repetition sees the same due set:
`plan_reminders` (reminder rows for deadlines whose next reminder time has come),
`claim_due_reminders` (lease with FOR UPDATE SKIP LOCKED) and `mark_missed_and_escalate`.
The e-mails themselves are sent in the end-to-end part only.

End to end: the real Prefect flow `deadline_sweep` (temporary Prefect server from
`prefect_test_harness`, on 127.0.0.1) against the benchmark database, delivering through
SMTP to a real aiosmtpd server on a free 127.0.0.1 port, in batches of `E2E_BATCH` per task
run. The received count must be exactly the due count, with as many distinct Message-IDs,
and a second sweep must deliver nothing more. In the same run, the baseline: as many plain
messages over one persistent smtplib connection to the same server (issue 13's target is a
flow rate of at least half of it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import clear_caches

E2E_BATCH = 500  # most reminders per send_reminder_batch task run (the flow's default; it shares the due set among its connections)


def _one_sweep(batch: int) -> dict[str, Any]:
    from service.config import get_settings
    from service.db import get_sessionmaker
    from service.deadlines import sweep
    from service.deadlines.models import Deadline, DeadlineStatus

    settings = get_settings()
    s = get_sessionmaker()()
    missed_q = select(func.count()).select_from(Deadline).where(Deadline.status == DeadlineStatus.MISSED)
    try:
        s.begin()
        missed_before = s.scalar(missed_q)
        t0 = time.perf_counter()
        planned = sweep.plan_reminders(s, settings)
        t1 = time.perf_counter()
        claimed = sweep.claim_due_reminders(s, None, batch)
        t2 = time.perf_counter()
        escalated = sweep.mark_missed_and_escalate(s, settings)
        t3 = time.perf_counter()
        missed = s.scalar(missed_q) - missed_before
    finally:
        s.rollback()
        s.close()
    return {"plan_s": t1 - t0, "claim_s": t2 - t1, "missed_escalate_s": t3 - t2, "total_s": t3 - t0,
            "planned": planned, "claimed": len(claimed), "missed": missed, "escalated": len(escalated)}


def time_sweep(*, repeats: int, batch: int, expect_due: int, expect_missed: int) -> dict[str, Any]:
    """Median of `repeats` rolled-back sweeps (after one warm-up); checks the due work is what was seeded."""
    _one_sweep(batch)  # warm caches and statement caches
    runs = [_one_sweep(batch) for _ in range(repeats)]
    for r in runs:
        if r["planned"] != expect_due or r["claimed"] != expect_due or r["missed"] != expect_missed:
            raise AssertionError(f"sweep saw different work than seeded (due {expect_due}, missed {expect_missed}): {r}")
    med = {k: round(statistics.median(r[k] for r in runs) * 1000, 2) for k in ("plan_s", "claim_s", "missed_escalate_s", "total_s")}
    return {
        "repeats": repeats,
        "due_reminders": expect_due,
        "missed_deadlines": expect_missed,
        "escalated": runs[0]["escalated"],
        "median_ms": {k.removesuffix("_s"): v for k, v in med.items()},
        "all_total_ms": [round(r["total_s"] * 1000, 2) for r in runs],
    }


def count_sweep_queries(batch: int) -> int:
    """SQL statements one sweep issues (N+1 detector: must not grow with the due count)."""
    from sqlalchemy import event

    from service.db import get_engine

    n = 0

    def count(*_a: Any) -> None:
        nonlocal n
        n += 1

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        _one_sweep(batch)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return n


def end_to_end(*, expect: int, batch: int = E2E_BATCH) -> dict[str, Any]:
    """Deliver the due reminders with the real flow to a real SMTP server; exactly `expect` must arrive."""
    try:
        import aiosmtpd  # noqa: F401
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError("bench needs the test extras (pip install -e '.[test]') for aiosmtpd") from exc

    from bench.smtp_sink import SmtpSink
    from service.db import get_sessionmaker
    from service.deadlines.models import Reminder

    with get_sessionmaker()() as s:
        sent_before = s.scalar(select(func.count()).select_from(Reminder).where(Reminder.sent_at.is_not(None)))
    tmp = Path(tempfile.mkdtemp(prefix="iop-bench-prefect-"))
    smtp = SmtpSink(tmp / "received.txt")
    smtp.start()
    saved = {k: os.environ.get(k) for k in ("IOP_SMTP_URL", "IOP_MAIL_FROM", "PREFECT_LOCAL_STORAGE_PATH", "PREFECT_HOME")}
    os.environ.update({"IOP_SMTP_URL": smtp.url, "IOP_MAIL_FROM": "iop@bench.example.se",
                       "PREFECT_LOCAL_STORAGE_PATH": str(tmp / "results"), "PREFECT_HOME": str(tmp / "home")})
    clear_caches()
    try:
        from prefect.testing.utilities import prefect_test_harness

        from flows.deadline_sweep import deadline_sweep

        without_prefect = _service_path(smtp, expect, batch)
        t_harness = time.perf_counter()
        with prefect_test_harness(server_startup_timeout=180):
            harness_s = time.perf_counter() - t_harness
            runs = []
            t0 = time.perf_counter()
            limit = expect + batch  # room for all: one run drains the due set, and shows it by claiming fewer
            while True:
                t_run = time.perf_counter()
                result = asyncio.run(deadline_sweep(batch=batch, limit=limit))
                runs.append({**result, "seconds": round(time.perf_counter() - t_run, 3)})
                if result["claimed"] < limit or len(runs) > 20:
                    break
            smtp.wait_for(expect, timeout=120)
            elapsed = time.perf_counter() - t0
            received = len(smtp.message_ids())
            # Exactly once: another sweep finds nothing left to send.
            again = asyncio.run(deadline_sweep(batch=batch))
            after_second = len(smtp.message_ids())
        message_ids = set(smtp.message_ids())
        one_connection = _smtp_one_connection(smtp, expect)
        smtp_floor = _smtp_floor(smtp, expect)
        with get_sessionmaker()() as s:
            sent_rows = s.scalar(select(func.count()).select_from(Reminder).where(Reminder.sent_at.is_not(None))) - sent_before
    finally:
        smtp.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        clear_caches()
        shutil.rmtree(tmp, ignore_errors=True)
    ok = (received == expect and after_second == expect and again["sent"] == 0 and len(message_ids) == expect
          and sent_rows == expect)
    rate = round(received / elapsed, 1)
    out = {
        "expected": expect,
        "received": received,
        "received_after_second_sweep": after_second,
        "distinct_message_ids": len(message_ids),
        "reminder_rows_sent": sent_rows,
        "flow_runs": runs,
        "second_sweep": again,
        "batch": batch,
        "seconds": round(elapsed, 3),
        "emails_per_s": rate,
        "smtp_one_connection_per_s": one_connection["emails_per_s"],
        "ratio_to_one_connection": round(rate / one_connection["emails_per_s"], 2),
        "smtp_one_connection": one_connection,
        "prefect_harness_startup_s": round(harness_s, 2),
        "service_path_without_prefect": without_prefect,
        "smtp_only": smtp_floor,
        "exactly_once": ok,
    }
    if not ok:
        raise AssertionError(f"end-to-end delivery was not exactly {expect}: {out}")
    return out


def _smtp_one_connection(smtp: Any, n: int) -> dict[str, Any]:
    """Baseline: n plain messages of a reminder's size over one persistent smtplib connection (no rendering, no database)."""
    import smtplib
    from email.message import EmailMessage

    body = ("Hej Handläggare,\n\nfristen för dialog i ärendet B01 2026/0001 går ut om två dagar.\n" * 6)
    smtp.clear()
    t0 = time.perf_counter()
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as conn:
        for i in range(n):
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "iop@bench.example.se", "handlaggare@bench.example.se", f"Påminnelse {i}"
            msg["Message-ID"] = f"<bench-baseline-{i}@bench.example.se>"
            msg.set_content(body)
            conn.send_message(msg)
    smtp.wait_for(n, timeout=120)
    elapsed = time.perf_counter() - t0
    smtp.clear()
    return {"emails": n, "seconds": round(elapsed, 3), "emails_per_s": round(n / elapsed, 1)}


def _smtp_floor(smtp: Any, n: int) -> dict[str, Any]:
    """The same number of rendered e-mails sent through the service's SMTP mailer, a new connection each (no database, no Prefect)."""
    from datetime import UTC, datetime, timedelta

    from service.notifications.email import render_email
    from service.notifications.mailer import SmtpMailer

    mailer = SmtpMailer(smtp.url, "iop@bench.example.se")
    context = {"to": "handlaggare@bench.example.se", "recipient_name": "Handläggare", "deadline_kind": "dialogue",
               "diarienummer": "B01 2026/0001", "case_title": "Mötesplats för äldre", "due_at": datetime.now(UTC) + timedelta(days=2),
               "case_url": "http://127.0.0.1:8000/arenden/1"}
    smtp.clear()
    t0 = time.perf_counter()
    for i in range(n):
        mailer.send(render_email("reminder", context), f"bench-floor-{i}")
    smtp.wait_for(n, timeout=120)
    elapsed = time.perf_counter() - t0
    return {"emails": n, "seconds": round(elapsed, 3), "emails_per_s": round(n / elapsed, 1)}


def _service_path(smtp: Any, n: int, batch: int) -> dict[str, Any]:
    """The flow's work without Prefect: plan, then per batch claim, reminder_emails, sends over one connection, each
    recorded in the sent-log, fold (one transaction, rolled back)."""
    from service.config import get_settings
    from service.db import get_sessionmaker
    from service.deadlines import sweep
    from service.notifications.email import render_email
    from service.notifications.mailer import SmtpMailer

    settings = get_settings()
    mailer = SmtpMailer(smtp.url, settings.mail_from)
    smtp.clear()
    s = get_sessionmaker()()
    try:
        s.begin()
        t0 = time.perf_counter()
        sweep.plan_reminders(s, settings)
        while claimed := [rid for rid, _ in sweep.claim_due_reminders(s, None, batch)]:
            with mailer.connection() as conn:
                for reminder_id, context, key in sweep.reminder_emails(s, claimed, settings):
                    sweep.record_delivery(s, reminder_id, conn.send(render_email("reminder", context), key))
            sweep.fold_deliveries(s, claimed)
        smtp.wait_for(n, timeout=120)
        elapsed = time.perf_counter() - t0
        received = len(smtp.message_ids())
    finally:
        s.rollback()
        s.close()
    smtp.clear()
    if received != n:
        raise AssertionError(f"service path delivered {received}, expected {n}")
    return {"emails": received, "seconds": round(elapsed, 3), "emails_per_s": round(received / elapsed, 1)}
