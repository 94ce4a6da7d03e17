"""Orphan sweep on both stores: objects whose row never committed go, committed documents and recent orphans stay."""

from __future__ import annotations

import re
from datetime import date, timedelta

from factories import World, case
from sqlalchemy import select

from service.cases.stages import Stage
from service.db import utcnow
from service.documents import service as documents
from service.documents.models import Document, DocumentKind
from service.organisations import service as organisations

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOUR = timedelta(hours=1)


def _case_doc(db, store, c, user, name: str, kind: DocumentKind = DocumentKind.ATTACHMENT) -> Document:  # noqa: ANN001
    return documents.store_document(db, store, case=c, kind=kind, filename=name, content=PDF, content_type="application/pdf", user=user)


def _minutes(db, store, w, name: str) -> Document:  # noqa: ANN001
    return organisations.join_overenskommelse(db, store, w.member, w.org, joined_on=date(2026, 1, 10), filename=name,
                                              content=PDF, content_type="application/pdf")


def _ref(doc: Document) -> str:
    return f"{doc.storage_key}@{doc.storage_version_id}"


def test_orphans_are_swept_after_older_than_and_documents_stay(db, store) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    kept = [_case_doc(db, store, c, w.member, "bilaga.pdf"), _minutes(db, store, w, "protokoll.pdf")]
    db.flush()
    # A request that stores objects and then fails to commit: the rows roll back, the objects stay.
    sp = db.begin_nested()
    lost = [_case_doc(db, store, c, w.member, "förlorad.pdf"), _minutes(db, store, w, "förlorat-protokoll.pdf")]
    orphans = {_ref(d) for d in lost}
    sp.rollback()
    case_key, minutes_key = (d.storage_key for d in lost)
    assert re.fullmatch(rf"cases/{c.id}/attachment/\d{{8}}T\d{{6}}Z-[0-9a-f]{{8}}/förlorad\.pdf", case_key), case_key
    assert minutes_key == f"organisations/{w.org.id}/board_minutes/v2/förlorat-protokoll.pdf"
    assert db.scalar(select(Document.id).where(Document.storage_key.in_([d.storage_key for d in lost]))) is None
    # Something else in the store that is not a document: never touched.
    other = store.put("exports/arkivpaket.zip", b"PK\x05\x06" + b"\x00" * 18, content_type="application/zip")

    recent = documents.sweep_orphans(db, store, older_than=HOUR)
    assert recent.removed == [] and recent.scanned == 4  # the orphans are younger than an hour

    later = documents.sweep_orphans(db, store, older_than=HOUR, now=utcnow() + 2 * HOUR)
    assert set(later.removed) == orphans and later.locked == [] and later.failed == []
    for doc in lost:
        assert not store.exists(doc.storage_key)
        assert store.list_versions(doc.storage_key) == []
    for doc in kept:
        assert store.get(doc.storage_key, doc.storage_version_id) == PDF
    assert store.get("exports/arkivpaket.zip", other.version_id).startswith(b"PK")
    # Nothing left to do on the next run.
    assert documents.sweep_orphans(db, store, older_than=HOUR, now=utcnow() + 2 * HOUR).removed == []


def test_a_version_that_lost_a_race_for_its_key_is_an_orphan(db, store) -> None:  # noqa: ANN001
    """Two versions of one key (the row points to one of them): only the unreferenced version goes."""
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    doc = _case_doc(db, store, c, w.member, "bilaga.pdf")
    loser = store.put(doc.storage_key, b"%PDF-1.4 other upload", content_type="application/pdf")
    result = documents.sweep_orphans(db, store, older_than=HOUR, now=utcnow() + 2 * HOUR)
    assert result.removed == [f"{doc.storage_key}@{loser.version_id}"]
    assert store.get(doc.storage_key, doc.storage_version_id) == PDF


def test_a_long_sweep_does_not_hold_up_writers(fresh_engine, tmp_path) -> None:  # noqa: ANN001
    """While the sweep lists storage, another transaction can write (SQLite: no write lock held by the sweep)."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from storage.filesystem import FilesystemStore

    written: list[bool] = []

    class WritesWhileListing(FilesystemStore):
        """A real store; while its listing is under way, a clerk saves something elsewhere."""

        def list_versions(self, prefix):  # noqa: ANN001, ANN201
            for info in super().list_versions(prefix):
                with fresh_engine.connect() as conn:
                    if fresh_engine.dialect.name == "sqlite":
                        conn.exec_driver_sql("PRAGMA busy_timeout=500")
                    conn.execute(text("UPDATE departments SET name = name"))
                    conn.commit()
                    written.append(True)
                yield info

    store = WritesWhileListing(tmp_path / "objects")
    with Session(fresh_engine) as s:
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
        _case_doc(s, store, c, w.officer, "kvar.pdf")
        s.commit()
    store.put("cases/999/attachment/v1/orphan.pdf", b"%PDF-1.4\n%%EOF\n", length=15, content_type="application/pdf")
    with Session(fresh_engine) as s:
        result = documents.sweep_orphans(s, store, older_than=timedelta(0), now=utcnow() + timedelta(seconds=1), end_read=s.rollback)
    assert written and result.removed == [r for r in result.removed if "orphan.pdf" in r] and len(result.removed) == 1
