"""Gallring as real Prefect flow runs on real S3 (SeaweedFS, object lock) and committed sessions: the daily sweep only
proposes and notifies, the registrar's approval is executed by process_outbox after commit, a locked object waits (even
when a sweep's clock says its lock is over, S3's does not)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from factories import World
from gallring_world import add, add_locked, close, open_case, versions
from sqlalchemy import select, update

from service.auth.models import User
from service.cases.models import StageChange
from service.documents import service as documents
from service.documents.models import Document
from service.notifications.models import Notification
from service.retention import service as retention
from service.retention.models import DecisionStatus, DisposalDecision


def _sweep(**kw) -> dict:  # noqa: ANN003
    from flows.gallring import gallring_sweep

    return asyncio.run(gallring_sweep(**kw))


def _outbox() -> dict:
    from flows.outbox import process_outbox

    return asyncio.run(process_outbox())


def test_the_sweep_proposes_the_registrar_approves_and_the_outbox_deletes_what_is_not_locked(env, seaweed_server, s3_bucket, smtp_server,
                                                                                             monkeypatch) -> None:  # noqa: ANN001
    from tests.flows.conftest import _clear_caches

    monkeypatch.setenv("IOP_STORAGE_URL", f"s3://{s3_bucket}?object_lock=true")
    monkeypatch.setenv("IOP_S3_ENDPOINT", seaweed_server.endpoint)
    monkeypatch.setenv("IOP_S3_ACCESS_KEY", seaweed_server.access_key)
    monkeypatch.setenv("IOP_S3_SECRET_KEY", seaweed_server.secret_key)
    _clear_caches()
    store = documents.get_store()
    # A day stands in for a signed agreement's ten years (tests/retention deletes one once a seconds-long lock has ended).
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    with env() as s, s.begin():
        w = World(s)
        c = open_case(s, w)
        free, locked = add(s, store, w, c, name="bilaga.pdf"), add_locked(s, store, w, c, until)
        close(s, w, c)
        s.execute(update(StageChange).where(StageChange.case_id == c.id).values(at=datetime(2015, 3, 2, tzinfo=UTC)))
        registrar_id, registrar_email, free_id, locked_id = w.registrar.id, w.registrar.email, free.id, locked.id

    first = _sweep()
    assert first["added"] == 2 and first["decision_id"] and first["resumed"] == 0
    assert _sweep() == {**first, "added": 0}  # one list, nothing twice
    _outbox()
    mail = [m for m in smtp_server.wait_for(1) if registrar_email in m.rcpt_tos]
    assert len(mail) == 1 and mail[0].message["Subject"].startswith(f"Gallringslista {first['decision_id']}: 2 handlingar")
    with env() as s:
        assert s.scalar(select(Notification).where(Notification.user_id == registrar_id, Notification.kind == "gallring_proposed"))
        free, locked = s.get(Document, free_id), s.get(Document, locked_id)
        assert versions(store, free) and versions(store, locked)  # proposed is not approved: nothing deleted

    with env() as s, s.begin():
        retention.approve(s, s.get(User, registrar_id), s.get(DisposalDecision, first["decision_id"]), None)
    _outbox()
    with env() as s:
        free, locked = s.get(Document, free_id), s.get(Document, locked_id)
        assert versions(store, free) == [] and free.disposed_at is not None
        assert versions(store, locked) and locked.disposed_at is None
        decision = s.get(DisposalDecision, first["decision_id"])
        assert decision.status == DecisionStatus.APPROVED
        waiting = next(i for i in retention.items(s, decision) if i.document_id == locked_id)
        assert retention.state_label(waiting).startswith("väntar: under lås till ") and waiting.locked_until == until

    assert _sweep()["resumed"] == 0  # the lock has not ended
    # A sweep that believes the lock is over resumes the execution, but S3 keeps the version: it waits on.
    assert _sweep(now=until + timedelta(seconds=1))["resumed"] == 1
    assert _outbox()["processed"] >= 1
    with env() as s:
        locked = s.get(Document, locked_id)
        assert versions(store, locked) and locked.disposed_at is None
        assert s.get(DisposalDecision, first["decision_id"]).status == DecisionStatus.APPROVED
