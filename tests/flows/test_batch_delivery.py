"""Issue 13: reminders and outbox e-mails in batches over one SMTP connection, still each received once.

Real Prefect (test harness), real aiosmtpd, real databases: a crash after half a batch, two sweeps at once, the
mail server killed in the middle of a batch, and the connection itself (reconnect, fail fast, messages per session).
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

import pytest
from factories import World, case
from fixtures.smtp import RecordingHandler
from sqlalchemy import func, select

from service.cases.stages import Stage
from service.config import get_settings
from service.db import utcnow
from service.deadlines import rules as deadlines
from service.deadlines.models import DeadlineKind, Reminder, ReminderDelivery
from service.deadlines.sweep import CLAIM_LEASE, retry_delay
from service.notifications.email import EmailMessageSpec, SmtpSender, SmtpUnavailable, make_message_id
from service.outbox.models import OutboxEvent
from service.outbox.service import emit


class PeerHandler(RecordingHandler):
    """Records which client connection (peer address) carried each message; optionally slow, like a real relay."""

    def __init__(self, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        super().__init__()
        self.delay = delay
        self.gate = gate
        self.peers: list[tuple[str, int]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        """Wait for the gate and a little more, then record the message and its connection."""
        if self.gate is not None and not self.gate.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 60)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.peers.append(tuple(session.peer))
        return await super().handle_DATA(server, session, envelope)


def _handler(smtp_server, delay: float = 0.0, gate: threading.Event | None = None) -> PeerHandler:  # noqa: ANN001
    smtp_server.stop()
    smtp_server.handler = PeerHandler(delay, gate)
    smtp_server.start()
    return smtp_server.handler


def sweep(**kw):  # noqa: ANN003, ANN201
    from flows.deadline_sweep import deadline_sweep

    return asyncio.run(deadline_sweep(**kw))


def outbox(**kw):  # noqa: ANN003, ANN201
    from flows.outbox import process_outbox

    return asyncio.run(process_outbox(**kw))


def _due_reminders(factory, n: int) -> None:  # noqa: ANN001
    """n open dialogue deadlines whose reminder is due now, one recipient (the officer) each."""
    with factory() as s, s.begin():
        w = World(s)
        for _ in range(n):
            c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
            deadlines.create(s, c, DeadlineKind.DIALOGUE, get_settings(), due_at=utcnow() + timedelta(days=3))


def _message_ids(smtp_server) -> list[str]:  # noqa: ANN001
    return [str(m.message["Message-ID"]) for m in smtp_server.messages]


def _assert_each_received_once(factory, smtp_server, n: int) -> None:  # noqa: ANN001
    """Every reminder sent, and received exactly once under its own stable Message-ID."""
    received = Counter(_message_ids(smtp_server))
    with factory() as s:
        rows = s.execute(select(Reminder.dedupe_key, Reminder.message_id, Reminder.sent_at)).all()
        assert s.scalar(select(func.count()).select_from(ReminderDelivery)) == 0  # the sent-log is folded
    assert len(rows) == n and all(sent_at is not None for _, _, sent_at in rows)
    expected = {make_message_id(key, "iop.localhost") for key, _, _ in rows}
    assert {mid for _, mid, _ in rows} == expected
    assert received == Counter(expected), {k: v for k, v in received.items() if v != 1}


def test_crash_after_half_a_batch_then_rerun_each_received_once(env, smtp_server) -> None:
    handler = _handler(smtp_server)
    _due_reminders(env, 40)
    with pytest.raises(RuntimeError, match="injected crash"):
        sweep(batch=40, crash_after_sends=20)
    assert len(smtp_server.messages) == 20
    with env() as s:
        # Died before the batch marked anything: the 20 acceptances are only in the sent-log.
        assert s.scalar(select(func.count()).select_from(ReminderDelivery)) == 20
        assert s.scalar(select(func.count()).select_from(Reminder).where(Reminder.sent_at.is_not(None))) == 0
    # While the dead run's lease lasts nothing is taken from it (it might still be alive and fold its own).
    early = sweep(now=utcnow() + timedelta(minutes=1))
    assert (early["recovered"], early["sent"], early["batches"], len(smtp_server.messages)) == (0, 0, 0, 20)
    # Once the lease is over a sweep marks the 20 sent from the sent-log and sends the other 20, over one connection.
    result = sweep(now=utcnow() + CLAIM_LEASE + timedelta(seconds=1), batch=40)
    assert (result["recovered"], result["sent"], result["connections"]) == (20, 40, 1)
    assert sweep(now=utcnow() + CLAIM_LEASE * 2)["sent"] == 0
    _assert_each_received_once(env, smtp_server, 40)
    assert len(set(handler.peers[20:])) == 1  # the rerun's 20 over one connection


def test_batches_use_one_connection_each(env, smtp_server) -> None:
    handler = _handler(smtp_server)
    _due_reminders(env, 45)
    result = sweep(batch=20)
    assert (result["sent"], result["batches"], result["connections"]) == (45, 3, 3)
    assert len(set(handler.peers)) == 3
    _assert_each_received_once(env, smtp_server, 45)


def test_batches_go_out_over_two_connections_at_once(env, smtp_server) -> None:
    """One sweep keeps two batches in flight on PostgreSQL (one lane on SQLite, its single writer), each on its own
    connection, and each reminder still arrives once."""
    handler = _handler(smtp_server, delay=0.01)
    _due_reminders(env, 40)
    result = sweep(batch=10, connections=2)
    assert (result["sent"], result["batches"], result["connections"]) == (40, 4, 4)
    peers = handler.peers
    # Two batches in flight: their messages arrive interleaved, not one connection's ten after the other's.
    switches = sum(1 for a, b in zip(peers, peers[1:], strict=False) if a != b)
    if env.kw["bind"].dialect.name == "postgresql":
        assert switches > 3, peers
    else:
        assert switches == 3, peers
    _assert_each_received_once(env, smtp_server, 40)


def test_two_concurrent_sweeps_share_the_work_without_duplicates(env, smtp_server) -> None:
    # The server holds the first message until more batches are leased than one sweep keeps in flight (two on
    # PostgreSQL, one on SQLite), so the first sweep cannot finish alone.
    gate = threading.Event()
    _handler(smtp_server, delay=0.004, gate=gate)
    _due_reminders(env, 160)
    results: list[dict] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(sweep(batch=20, connections=2))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    lanes = 2 if env.kw["bind"].dialect.name == "postgresql" else 1

    def open_gate() -> None:
        leased = select(func.count()).select_from(Reminder).where(Reminder.claimed_until.is_not(None))
        for _ in range(600):
            with env() as s:
                if s.scalar(leased) > 20 * lanes:
                    break
            threading.Event().wait(0.1)
        gate.set()

    threads = [threading.Thread(target=run) for _ in range(2)] + [threading.Thread(target=open_gate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert sorted(r["sent"] for r in results)[0] > 0, results  # both took part
    assert sum(r["sent"] for r in results) == 160
    assert sweep()["sent"] == 0
    _assert_each_received_once(env, smtp_server, 160)


def test_smtp_killed_mid_batch_everything_delivered_once_after_it_returns(env, smtp_server) -> None:
    _handler(smtp_server, delay=0.01)
    _due_reminders(env, 60)

    def kill() -> None:
        smtp_server.wait_for(20, timeout=60)
        smtp_server.stop()

    killer = threading.Thread(target=kill)
    killer.start()
    t0 = utcnow()
    result = sweep(now=t0, batch=60)
    killer.join()
    got = len(smtp_server.messages)
    assert 20 <= got < 60 and result["sent"] == got and result["failed"] == 60 - got, result
    with env() as s:
        waiting = s.scalars(select(Reminder).where(Reminder.sent_at.is_(None))).all()
        assert len(waiting) == 60 - got
        # The rest of the batch backs off together, not one connection timeout each.
        assert all(r.attempts == 1 and r.claimed_until == t0 + retry_delay(1) and "SmtpUnavailable" in r.last_error for r in waiting)
    assert sweep(now=t0 + timedelta(seconds=30))["sent"] == 0  # held by the backoff
    smtp_server.start()
    assert sweep(now=t0 + retry_delay(1) + timedelta(seconds=1))["sent"] == 60 - got
    assert sweep(now=t0 + timedelta(hours=1))["sent"] == 0
    _assert_each_received_once(env, smtp_server, 60)


def test_a_batch_out_of_lease_time_gives_the_rest_back(env, smtp_server, monkeypatch) -> None:  # noqa: ANN001
    """Past half its lease a batch stops sending (another worker may soon claim the rest) and releases what is left."""
    import flows.deadline_sweep as ds

    _due_reminders(env, 5)
    monkeypatch.setattr(ds, "LEASE_BUDGET_S", 0.0)
    first = sweep(batch=5)
    assert (first["sent"], first["released"], len(smtp_server.messages)) == (0, 5, 0)
    with env() as s:
        assert s.scalar(select(func.count()).select_from(Reminder).where(Reminder.claimed_until.is_not(None))) == 0
    monkeypatch.setattr(ds, "LEASE_BUDGET_S", CLAIM_LEASE.total_seconds() / 2)
    assert sweep(batch=5)["sent"] == 5  # released, not leased: the next sweep takes them at once
    _assert_each_received_once(env, smtp_server, 5)


def _email_events(factory, n: int) -> list[str]:  # noqa: ANN001
    keys = []
    with factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
        for i in range(n):
            keys.append(f"batch-{i}")
            emit(s, "email.send", {"template": "reminder", "key": keys[-1], "context": {
                "to": w.member.email, "recipient_name": "Medlem", "deadline_kind": "dialogue", "diarienummer": c.diarienummer,
                "case_title": c.title, "due_at": (utcnow() + timedelta(days=3)).isoformat(), "case_url": "http://127.0.0.1:8000/arenden/1"}},
                 case_id=c.id)
    return keys


def test_outbox_batch_over_one_connection_and_smtp_killed_midway(env, smtp_server) -> None:
    handler = _handler(smtp_server, delay=0.01)
    keys = _email_events(env, 30)
    assert outbox(limit=10)["processed"] == 30  # three full batches in one run
    assert len(set(handler.peers)) == 1
    assert sorted(_message_ids(smtp_server)) == sorted(make_message_id(k, "iop.localhost") for k in keys)

    smtp_server.clear()
    handler.peers.clear()
    keys = _email_events(env, 30)

    def kill() -> None:
        smtp_server.wait_for(10, timeout=60)
        smtp_server.stop()

    killer = threading.Thread(target=kill)
    killer.start()
    first = outbox()
    killer.join()
    got = len(smtp_server.messages)
    assert 10 <= got < 30 and first["processed"] == got and first["retried"] == 30 - got, first
    with env() as s:
        waiting = s.scalars(select(OutboxEvent).where(OutboxEvent.processed_at.is_(None))).all()
        assert len(waiting) == 30 - got and all(e.attempts == 1 and "SMTP" in e.last_error for e in waiting)
    smtp_server.start()
    assert outbox(now=utcnow() + timedelta(minutes=5))["processed"] == 30 - got
    assert Counter(_message_ids(smtp_server)) == Counter(make_message_id(k, "iop.localhost") for k in keys)


def _spec(i: int) -> EmailMessageSpec:
    return EmailMessageSpec(to=("mottagare@kommun.example.se",), subject=f"Test {i}", body="Hej")


def test_connection_reconnects_after_a_drop_and_fails_fast_when_the_server_is_gone(smtp_server) -> None:
    handler = _handler(smtp_server)
    sender = SmtpSender(smtp_server.url, timeout=5)
    with sender.connection(max_messages=3) as conn:
        for i in range(7):
            conn.send(_spec(i), from_addr="iop@kommun.example.se", message_id=f"<m{i}@test>")
        assert conn.sessions == 3 and len(set(handler.peers)) == 3  # QUIT and a new session after three messages
    with sender.connection() as conn:
        conn.send(_spec(7), from_addr="iop@kommun.example.se", message_id="<m7@test>")
        smtp_server.stop()  # drops the idle session
        smtp_server.start()
        conn.send(_spec(8), from_addr="iop@kommun.example.se", message_id="<m8@test>")
        assert conn.sessions == 2
        smtp_server.stop()
        with pytest.raises(SmtpUnavailable):
            conn.send(_spec(9), from_addr="iop@kommun.example.se", message_id="<m9@test>")
        smtp_server.start()
        with pytest.raises(SmtpUnavailable):  # gone stays gone for this batch: no connection attempt per message
            conn.send(_spec(10), from_addr="iop@kommun.example.se", message_id="<m10@test>")
        assert conn.sessions == 2
    assert _message_ids(smtp_server) == [f"<m{i}@test>" for i in range(9)]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # synchronous_commit is PostgreSQL's
def test_the_sent_log_connection_skips_the_disk_wait_and_gives_it_back(env) -> None:
    """Only the sent-log's own writes skip the WAL flush wait; the pooled connection comes back with the default."""
    from flows.runtime import autocommit_connection
    from service.db import get_engine

    assert get_engine().dialect.name == "postgresql"
    with autocommit_connection(wait_for_disk=False) as log:
        assert log.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        backend = log.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with get_engine().connect() as again:
        assert again.exec_driver_sql("SELECT pg_backend_pid()").scalar() == backend  # the same pooled connection
        assert again.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
