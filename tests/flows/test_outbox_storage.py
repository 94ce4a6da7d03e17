"""S3 killed while the outbox generates a decision: nothing half-written, retried, stored after S3 returns."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from factories import World, case
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from service.cases.stages import Stage
from service.config import Settings
from service.db import utcnow
from service.documents.models import Document, DocumentKind
from service.effects import HANDLERS
from service.notifications.mailer import FileMailer
from service.outbox.models import OutboxEvent
from service.outbox.service import Context, process
from service.reviews import service as reviews
from service.reviews.models import Decision
from storage.s3 import S3Store


def test_decision_document_waits_for_s3_and_is_stored_once_it_returns(fresh_engine, seaweed_factory, s3_bucket, tmp_path: Path) -> None:  # noqa: ANN001
    server = seaweed_factory()
    store = S3Store(server.endpoint, server.access_key, server.secret_key, s3_bucket)
    settings = Settings()
    factory = sessionmaker(fresh_engine, expire_on_commit=False)
    ctx = Context(settings=settings, mailer=FileMailer(tmp_path / "mail", settings.mail_from), store_factory=lambda: store, handlers=HANDLERS)
    with factory() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.IDENTIFY_NEED, officer_id=w.officer.id)
        r = reviews.request_review(s, w.officer, c, settings, to_stage=None, approver_id=None, comment="")
        reviews.decide(s, w.approver, c, r, Decision.APPROVE, "Behovet är styrkt.", settings)
        case_id = c.id

    def decisions() -> list[Document]:
        with factory() as s:
            return list(s.scalars(select(Document).where(Document.case_id == case_id, Document.kind == DocumentKind.DECISION)))

    server.kill()
    first = process(factory, ctx)
    assert first.retried >= 1 and first.failed == 0
    assert decisions() == []  # no row for an object that was never stored
    with factory() as s:
        waiting = s.scalar(select(OutboxEvent).where(OutboxEvent.topic == "review.decided"))
        assert waiting.processed_at is None and waiting.failed_at is None and waiting.attempts == 1
        assert "ServiceUnavailable" in (waiting.last_error or "")
    server.restart()
    assert process(factory, ctx, now=utcnow() + timedelta(minutes=10)).processed >= 1
    stored = decisions()
    assert len(stored) == 1 and stored[0].version == 1
    body = b"".join(store.open(stored[0].storage_key, stored[0].storage_version_id))
    assert hashlib.sha256(body).hexdigest() == stored[0].sha256
    # Everything processed; running again generates no second decision.
    process(factory, ctx, now=utcnow() + timedelta(hours=1))
    assert len(decisions()) == 1
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.processed_at.is_(None))) == 0
