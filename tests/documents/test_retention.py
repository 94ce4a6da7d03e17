"""Signed agreements are stored under retention: the stored version cannot be deleted, on S3 object lock or files."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta, UTC

import pytest
from factories import World, auth, case
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.cases.stages import Stage
from service.config import Settings
from service.deps import app_settings
from service.documents import service as documents
from service.documents.models import Document, DocumentKind
from helpers import problem
from storage.base import ObjectLocked

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n% signerat avtal\n"
DEFAULT_DAYS = Settings().signed_agreement_retention_days


def _upload(client, user, case_id: int, kind: str, data: bytes = PDF, name: str = "undertecknat-avtal.pdf") -> dict:  # noqa: ANN001
    r = client.post(f"/api/v1/cases/{case_id}/attachments", files={"file": (name, data, "application/pdf")},
                    data={"kind": kind}, headers=auth(user))
    assert r.status_code == 201, r.text
    return r.json()


def test_default_retention_is_ten_years_and_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_DAYS >= 3650
    monkeypatch.setenv("IOP_SIGNED_AGREEMENT_RETENTION_DAYS", "30")
    monkeypatch.setenv("IOP_STORAGE_OBJECT_LOCK", "true")
    s = Settings()
    assert s.signed_agreement_retention_days == 30 and s.storage_object_lock is True


def test_signed_agreement_version_cannot_be_deleted(client, db, locked_store) -> None:  # noqa: ANN001
    """Upload through the API; deleting that version through the store is refused and the bytes stay intact."""
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    before = datetime.now(UTC)
    meta = _upload(client, w.officer, c.id, "signed_agreement")
    doc = db.get(Document, meta["id"])
    assert doc.kind == DocumentKind.SIGNED_AGREEMENT
    with pytest.raises(ObjectLocked):
        locked_store.delete(doc.storage_key, doc.storage_version_id)
    # Hiding the key (a delete marker on S3) does not touch the retained version either.
    locked_store.delete(doc.storage_key)
    with pytest.raises(ObjectLocked):
        locked_store.delete(doc.storage_key, doc.storage_version_id)
    dl = client.get(f"/api/v1/cases/{c.id}/documents/{meta['id']}/content", headers=auth(w.officer))
    assert dl.status_code == 200
    assert hashlib.sha256(dl.content).hexdigest() == meta["sha256"] == hashlib.sha256(PDF).hexdigest()
    # The retention date is on the stored version and in the audit chain.
    info = locked_store.stat(doc.storage_key, doc.storage_version_id)
    expected = before + timedelta(days=DEFAULT_DAYS)
    assert info.retain_until is not None and abs(info.retain_until - expected) < timedelta(minutes=5)
    event = db.scalars(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "document.stored")).all()[-1]
    assert abs(datetime.fromisoformat(event.after["retain_until"]) - info.retain_until) < timedelta(seconds=1)


def test_ordinary_attachments_are_not_retained(client, db, locked_store) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    doc = db.get(Document, _upload(client, w.member, c.id, "attachment", name="bilaga.pdf")["id"])
    assert locked_store.stat(doc.storage_key, doc.storage_version_id).retain_until is None
    locked_store.delete(doc.storage_key, doc.storage_version_id)  # no lock: the version goes
    assert not locked_store.exists(doc.storage_key)


def test_retention_period_comes_from_settings(client, db, app, locked_store) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    app.dependency_overrides[app_settings] = lambda: Settings(signed_agreement_retention_days=30)
    try:
        short = db.get(Document, _upload(client, w.officer, c.id, "signed_agreement")["id"])
        app.dependency_overrides[app_settings] = lambda: Settings(signed_agreement_retention_days=0)
        unlocked = db.get(Document, _upload(client, w.officer, c.id, "signed_agreement")["id"])
    finally:
        app.dependency_overrides.pop(app_settings, None)
    until = locked_store.stat(short.storage_key, short.storage_version_id).retain_until
    assert until is not None and abs(until - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
    assert locked_store.stat(unlocked.storage_key, unlocked.storage_version_id).retain_until is None


@pytest.mark.parametrize("store", ["s3"], indirect=True)
def test_s3_without_object_lock_stores_signed_agreements_unlocked(client, db, store, caplog) -> None:  # noqa: ANN001
    """A bucket without object lock cannot retain: the upload still works, and nothing is sent that S3 would ignore."""
    assert store.supports_object_lock is False
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    with caplog.at_level(logging.WARNING, logger="storage.s3"):
        doc = db.get(Document, _upload(client, w.officer, c.id, "signed_agreement")["id"])
    assert "retain_until ignored" not in caplog.text
    assert store.stat(doc.storage_key, doc.storage_version_id).retain_until is None


def test_sweep_keeps_a_retained_orphan_without_failing(db, locked_store) -> None:  # noqa: ANN001
    """A signed agreement whose commit failed is an orphan the sweep cannot delete yet: reported as locked, not an error."""
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    sp = db.begin_nested()
    signed = documents.upload_document(db, locked_store, w.officer, c, kind=DocumentKind.SIGNED_AGREEMENT, filename="avtal.pdf",
                                       content=PDF, content_type="application/pdf")
    plain = documents.store_document(db, locked_store, case=c, kind=DocumentKind.ATTACHMENT, filename="bilaga.pdf",
                                     content=PDF, content_type="application/pdf", user=w.member)
    keys = {(d.storage_key, d.storage_version_id) for d in (signed, plain)}
    sp.rollback()  # the failed commit: objects stored, rows gone
    assert not db.scalars(select(Document).where(Document.case_id == c.id)).all()
    (signed_key, signed_vid), = [k for k in keys if "signed_agreement" in k[0]]
    (plain_key, plain_vid), = [k for k in keys if "attachment" in k[0]]

    result = documents.sweep_orphans(db, locked_store, older_than=timedelta(hours=1), now=datetime.now(UTC) + timedelta(hours=2))
    assert f"{plain_key}@{plain_vid}" in result.removed
    assert result.locked == [f"{signed_key}@{signed_vid}"] and result.failed == []
    assert locked_store.get(signed_key, signed_vid) == PDF
    assert not locked_store.exists(plain_key)
    # The next run meets the same locked orphan again and still does not fail.
    again = documents.sweep_orphans(db, locked_store, older_than=timedelta(hours=1), now=datetime.now(UTC) + timedelta(hours=2))
    assert again.locked == result.locked and again.removed == []


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _stored(db, case_id: int) -> list[Document]:  # noqa: ANN001
    return list(db.scalars(select(Document).where(Document.case_id == case_id)))


def _events(db, case_id: int, action: str) -> list[AuditEvent]:  # noqa: ANN001
    return list(db.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == action).order_by(AuditEvent.id)))


def test_organisation_upload_is_kept_unretained_until_the_department_confirms_it(client, db, locked_store) -> None:  # noqa: ANN001
    """The organisation's signed copy is incoming: stored, deletable, audited as awaiting confirmation; the officer's confirmation retains it."""
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    theirs = db.get(Document, _upload(client, w.member, c.id, "signed_agreement")["id"])
    assert locked_store.stat(theirs.storage_key, theirs.storage_version_id).retain_until is None
    stored = _events(db, c.id, "document.stored")[-1].after
    assert stored["retention"] == "awaiting_confirmation" and "retain_until" not in stored
    # Only the department confirms.
    problem(client.post(f"/api/v1/cases/{c.id}/documents/{theirs.id}/confirm", headers=auth(w.member)), 403)
    r = client.post(f"/api/v1/cases/{c.id}/documents/{theirs.id}/confirm", headers=auth(w.officer))
    assert r.status_code == 201, r.text
    confirmed = db.get(Document, r.json()["id"])
    assert (confirmed.kind, confirmed.version, confirmed.sha256) == (DocumentKind.SIGNED_AGREEMENT, 2, theirs.sha256)
    assert locked_store.stat(confirmed.storage_key, confirmed.storage_version_id).retain_until is not None
    with pytest.raises(ObjectLocked):
        locked_store.delete(confirmed.storage_key, confirmed.storage_version_id)
    (event,) = _events(db, c.id, "document.signed_agreement_confirmed")
    assert event.actor_id == w.officer.id and event.after["source_document_id"] == theirs.id and event.after["document_id"] == confirmed.id
    assert _events(db, c.id, "document.stored")[-1].after["source_document_id"] == theirs.id
    # Once is enough; the department's own upload needs no confirmation.
    problem(client.post(f"/api/v1/cases/{c.id}/documents/{theirs.id}/confirm", headers=auth(w.officer)), 409)
    problem(client.post(f"/api/v1/cases/{c.id}/documents/{confirmed.id}/confirm", headers=auth(w.officer)), 409)
    # The organisation's unconfirmed copy is not under retention: it can go (an erasure request, a wrong file).
    locked_store.delete(theirs.storage_key, theirs.storage_version_id)


def test_signed_agreement_must_be_a_pdf(client, db, locked_store) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.AGREEMENT, officer_id=w.officer.id)
    for user in (w.member, w.officer):
        r = client.post(f"/api/v1/cases/{c.id}/attachments", files={"file": ("avtal.png", PNG, "image/png")},
                        data={"kind": "signed_agreement"}, headers=auth(user))
        assert [e["field"] for e in problem(r, 422)["errors"]] == ["file"]
    assert _stored(db, c.id) == []
    # The same PNG is a fine ordinary attachment.
    png = _upload(client, w.member, c.id, "attachment", PNG, "foto.png")
    assert png["kind"] == "attachment"


@pytest.mark.parametrize("stage", [Stage.DRAFT, Stage.IDENTIFY_NEED, Stage.DIALOGUE])
def test_signed_agreement_before_the_agreement_stage_is_refused(client, db, locked_store, stage: Stage) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=stage, officer_id=w.officer.id)
    for user in (w.member, w.officer) if stage != Stage.DRAFT else (w.member,):  # a draft is the organisation's alone
        body = problem(client.post(f"/api/v1/cases/{c.id}/attachments", files={"file": ("avtal.pdf", PDF, "application/pdf")},
                                   data={"kind": "signed_agreement"}, headers=auth(user)), 409)
        assert body["current_stage"] == stage.value and "agreement" in body["allowed_stages"]
    assert _stored(db, c.id) == []


@pytest.mark.parametrize("stage", [Stage.CLOSED, Stage.REJECTED, Stage.WITHDRAWN])
def test_no_uploads_into_a_closed_case(client, db, locked_store, stage: Stage) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=stage, officer_id=w.officer.id)
    for user, kind in ((w.member, "signed_agreement"), (w.member, "attachment"), (w.officer, "attachment")):
        body = problem(client.post(f"/api/v1/cases/{c.id}/attachments", files={"file": ("avtal.pdf", PDF, "application/pdf")},
                                   data={"kind": kind}, headers=auth(user)), 409)
        assert body["current_stage"] == stage.value and "avslutat" in body["detail"]
    assert _stored(db, c.id) == []


def test_download_has_a_plain_filename_beside_the_utf8_one(client, db, store) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    meta = _upload(client, w.member, c.id, "attachment", name="Årsmöte föreningen.pdf")
    dl = client.get(f"/api/v1/cases/{c.id}/documents/{meta['id']}/content", headers=auth(w.officer))
    assert dl.headers["content-disposition"] == (
        "attachment; filename=\"Arsmote foreningen.pdf\"; filename*=UTF-8''%C3%85rsm%C3%B6te%20f%C3%B6reningen.pdf")


def test_file_extension_follows_the_detected_type(client, db, store) -> None:  # noqa: ANN001
    w = World(db)
    c = case(db, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
    assert _upload(client, w.member, c.id, "attachment", PNG, "rapport.pdf")["filename"] == "rapport.png"
    assert _upload(client, w.member, c.id, "attachment", PNG, "utan-filändelse")["filename"] == "utan-filändelse.png"
    assert _upload(client, w.member, c.id, "attachment", PDF, "Rapport.PDF")["filename"] == "Rapport.PDF"
