"""deadline_sweep: plan due reminders, send them in batches over one SMTP connection each, mark missed deadlines, escalate.

Contract (README, "Deadlines and flows"): each batch (one Prefect task run) holds a lease on its reminders
(`sweep.claim_due_reminders`), so sweeps running at the same time share the work; a sweep keeps up to
`IOP_SMTP_CONNECTIONS` batches in flight at once (default 2, one on SQLite), each over a connection of its own. Every message the SMTP server
accepts is written to the sent-log in its own commit (one autocommit INSERT) before the next one is sent; the batch
then marks its reminders sent, and a sweep first marks the ones a crashed batch left (its lease over). What is not
covered: a crash between the server's acceptance and that commit (at most one reminder per batch in flight), or a connection
that breaks after the message went out but before the reply — that reminder is sent again once its lease has run
out, with the same Message-ID. When the server cannot be reached
the batch's unsent reminders back off (`sweep.mark_failed_many`) and the sweep stops sending until its next run.
"""

from __future__ import annotations

import time
from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from flows.runtime import autocommit_connection, outbox_context, session_factory
from service.config import get_settings
from service.db import get_engine
from service.deadlines import sweep
from service.notifications.email import EmailDeliveryError, EmailRejected, SmtpUnavailable, render_email

BATCH = 500
MIN_BATCH = 50  # below this a task run's own cost outweighs sharing the work out
# A batch stops sending well inside its lease: after the lease another worker may claim what is left.
LEASE_BUDGET_S = sweep.CLAIM_LEASE.total_seconds() / 2


@task(name="send_reminder_batch", cache_policy=NO_CACHE, persist_result=False, retries=0)
def send_reminder_batch(reminder_ids: list[int], now: datetime | None = None, crash_after: int | None = None) -> dict[str, int]:
    """Send a claimed batch over one SMTP connection, recording each accepted message before the next."""
    factory = session_factory()
    started = time.monotonic()
    with factory() as s, s.begin():
        emails = sweep.reminder_emails(s, reminder_ids, get_settings())
    counts = {"sent": 0, "skipped": len(reminder_ids) - len(emails), "failed": 0, "released": 0, "smtp_down": 0, "connections": 0}
    ids = [rid for rid, _, _ in emails]
    # The sent-log guards against this worker dying (the row survives it); a database crash in the same instant would
    # lose the row and the reminder go out again with its Message-ID (README, "Deadlines and flows").
    with outbox_context().mailer.connection() as mail, autocommit_connection(wait_for_disk=False) as log:
        for i, (rid, context, key) in enumerate(emails):
            if time.monotonic() - started > LEASE_BUDGET_S:
                with factory() as s, s.begin():
                    sweep.release(s, ids[i:])
                counts["released"] = len(ids) - i
                break
            try:
                message_id = mail.send(render_email("reminder", context), key)
            except SmtpUnavailable as exc:
                # The server is gone: this and the rest of the batch back off together instead of timing out one by one.
                with factory() as s, s.begin():
                    sweep.mark_failed_many(s, ids[i:], f"{type(exc).__name__}: {exc}", now)
                counts["failed"] += len(ids) - i
                counts["smtp_down"] = 1
                break
            except (EmailDeliveryError, EmailRejected) as exc:
                with factory() as s, s.begin():
                    # A refused recipient will be refused again; a deferral is retried with backoff.
                    sweep.mark_failed(s, rid, f"{type(exc).__name__}: {exc}", now, permanent=isinstance(exc, EmailRejected))
                counts["failed"] += 1
                continue
            sweep.record_delivery(log, rid, message_id)
            log.commit()  # durable before the next message goes out (free on PostgreSQL's autocommit)
            counts["sent"] += 1
            if crash_after is not None and counts["sent"] >= crash_after:
                # Fault injection for tests: the process dies after a send was recorded, before the batch marks it sent.
                raise RuntimeError("injected crash after send")
        counts["connections"] = getattr(getattr(mail, "conn", None), "sessions", 0)
    with factory() as s, s.begin():
        sweep.fold_deliveries(s, reminder_ids)
    return counts


@flow(name="deadline_sweep", log_prints=False)
async def deadline_sweep(now: datetime | None = None, batch: int = BATCH, limit: int = 5000, crash_after_send: bool = False,
                         crash_after_sends: int | None = None, connections: int | None = None) -> dict[str, int]:
    """One sweep: plan reminders, send the due ones batch by batch, mark and escalate missed deadlines."""
    log = get_run_logger()
    settings = get_settings()
    factory = session_factory()
    with factory() as s, s.begin():
        planned = sweep.plan_reminders(s, settings, now)
    with factory() as s, s.begin():
        # Reminders a crashed batch got accepted: sent, not to be sent again.
        recovered = sweep.fold_deliveries(s, now=now)
    crash_at = crash_after_sends or (1 if crash_after_send else None)
    lanes = max(1, connections or settings.smtp_connections)
    if get_engine().dialect.name != "postgresql":
        lanes = 1  # SQLite has one writer: a second lane would only wait for the first one's sent-log commits
    with factory() as s:
        due = sweep.count_due(s, now)
    # The due set shared evenly among the connections (1,000 due on two: two batches of 500, no lone last batch).
    size = min(batch, max(MIN_BATCH, -(-due // lanes)))
    totals = {"sent": 0, "skipped": 0, "failed": 0, "released": 0, "connections": 0}
    batches = claimed_total = 0
    pending: set = set()
    stop = False
    failure: BaseException | None = None
    while True:
        # Up to `lanes` batches at once, each over its own SMTP connection: one waits for the server's reply or its
        # sent-log commit while the other builds and sends, so the sweep keeps pace with the mail server.
        while not stop and len(pending) < lanes and claimed_total < limit:
            with factory() as s, s.begin():
                claimed = sweep.claim_due_reminders(s, now, min(size, limit - claimed_total))
            if not claimed:
                stop = True
                break
            claimed_total += len(claimed)
            batches += 1
            pending.add(send_reminder_batch.submit([rid for rid, _ in claimed], now,
                                                   None if crash_at is None else crash_at - totals["sent"]))
        if not pending:
            break
        done = next(iter(as_completed(pending)))
        pending.discard(done)
        try:
            counts = done.result()
        except BaseException as exc:  # noqa: BLE001 - the other lanes finish their batches first, then it is raised
            failure, stop = failure or exc, True
            continue
        for k in totals:
            totals[k] += counts[k]
        if counts["smtp_down"] or counts["released"]:
            stop = True  # the next sweep goes on; the server is back by then or the backoff holds the rest
    if failure is not None:
        raise failure
    with factory() as s, s.begin():
        escalated = sweep.mark_missed_and_escalate(s, settings, now)
    result = {"planned": planned, **totals, "sent": totals["sent"] + recovered, "recovered": recovered, "claimed": claimed_total,
              "batches": batches, "escalated": len(escalated)}
    log.info("deadline sweep: %s", result)
    return result
