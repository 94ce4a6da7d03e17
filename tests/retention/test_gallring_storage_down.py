"""S3 down while an approved gallring runs from the outbox: nothing is marked gallrad, retried, done once S3 is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from factories import World
from gallring_world import add, close, open_case, versions
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from service.cases.models import StageChange
from service.config import Settings
from service.db import utcnow
from service.documents.models import Document
from service.effects import HANDLERS
from service.notifications.mailer import FileMailer
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, process
from service.retention import service as retention
from service.retention.models import DecisionStatus, DisposalDecision
from storage.s3 import S3Store


def test_gallring_waits_for_s3_and_completes_once_it_returns(fresh_engine, seaweed_factory, s3_bucket, tmp_path: Path) -> None:  # noqa: ANN001
    server = seaweed_factory()
    store = S3Store(server.endpoint, server.access_key, server.secret_key, s3_bucket, object_lock=True)
    settings = Settings()
    factory = sessionmaker(fresh_engine, expire_on_commit=False)
    ctx = Context(settings=settings, mailer=FileMailer(tmp_path / "mail", settings.mail_from), store_factory=lambda: store, handlers=HANDLERS)
    with factory() as s, s.begin():
        w = World(s)
        c = open_case(s, w)
        doc = add(s, store, w, c)
        close(s, w, c)
        s.execute(update(StageChange).where(StageChange.case_id == c.id).values(at=datetime(2015, 3, 2, tzinfo=UTC)))
        decision, _ = retention.propose(s)
        retention.approve(s, w.registrar, decision, None)
        doc_id, decision_id = doc.id, decision.id
    server.kill()  # after the approval's commit, before the outbox runs its execution
    first = process(factory, ctx)
    assert first.retried == 1 and first.failed == 0
    with factory() as s:
        assert s.get(Document, doc_id).disposed_at is None
        assert s.get(DisposalDecision, decision_id).status == DecisionStatus.APPROVED
        waiting = s.scalar(select(OutboxEvent).where(OutboxEvent.topic == retention.EXECUTE_TOPIC))
        assert waiting.processed_at is None and waiting.failed_at is None and waiting.attempts == 1
        assert "storage unavailable" in (waiting.last_error or "")
    server.restart()
    assert process(factory, ctx, now=utcnow() + timedelta(minutes=10)).processed == 1
    with factory() as s:
        doc = s.get(Document, doc_id)
        assert doc.disposed_at is not None and versions(store, doc) == []
        assert s.get(DisposalDecision, decision_id).status == DecisionStatus.EXECUTED
