"""deadline_sweep: plan and send due reminders exactly once, mark missed deadlines, escalate."""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import flow, get_run_logger, task

from flows.runtime import outbox_context, session_factory
from service.config import get_settings
from service.deadlines import sweep
from service.notifications.email import EmailDeliveryError, EmailRejected, render_email


def _reminder_cache_key(_context, parameters) -> str:  # noqa: ANN001
    # The row's random token: a retried run finds the persisted result and does not send again.
    return f"iop-reminder-{parameters['token']}"


@task(cache_key_fn=_reminder_cache_key, persist_result=True, cache_expiration=timedelta(days=60), retries=0)
def send_reminder(reminder_id: int, token: str) -> str | None:
    """Send one reminder e-mail; returns its Message-ID, or None when it must not be sent."""
    factory = session_factory()
    with factory() as s, s.begin():
        found = sweep.reminder_email(s, reminder_id, get_settings())
    if found is None:
        return None
    context, key = found
    return outbox_context().mailer.send(render_email("reminder", context), key)


@flow(name="deadline_sweep", log_prints=False)
async def deadline_sweep(now: datetime | None = None, batch: int = 500, crash_after_send: bool = False) -> dict[str, int]:
    """One sweep: plan reminders, send the due ones, mark and escalate missed deadlines."""
    log = get_run_logger()
    settings = get_settings()
    factory = session_factory()
    with factory() as s, s.begin():
        planned = sweep.plan_reminders(s, settings, now)
    with factory() as s, s.begin():
        claimed = sweep.claim_due_reminders(s, now, batch)
    sent = skipped = failed = 0
    for reminder_id, token in claimed:
        try:
            message_id = send_reminder(reminder_id, token)
        except (EmailDeliveryError, EmailRejected) as exc:
            with factory() as s, s.begin():
                # A refused recipient will be refused again; a server that does not answer is retried with backoff.
                sweep.mark_failed(s, reminder_id, f"{type(exc).__name__}: {exc}", now, permanent=isinstance(exc, EmailRejected))
            failed += 1
            continue
        if crash_after_send:
            # Fault injection for tests: the process dies after sending and before recording it.
            raise RuntimeError("injected crash after send")
        with factory() as s, s.begin():
            sweep.mark_sent(s, reminder_id, message_id)
        sent += message_id is not None
        skipped += message_id is None
    with factory() as s, s.begin():
        escalated = sweep.mark_missed_and_escalate(s, settings, now)
    result = {"planned": planned, "sent": sent, "skipped": skipped, "failed": failed, "escalated": len(escalated)}
    log.info("deadline sweep: %s", result)
    return result
