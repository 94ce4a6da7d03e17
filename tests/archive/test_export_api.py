"""The registrar's export API: only closed cases (409 naming each open one, nothing written), ids or a period, status, download."""

from __future__ import annotations

from datetime import UTC, datetime

from archive_world import stored_export
from factories import World, auth, case as make_case
from helpers import error_fields, problem
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from service.archive.models import ArchiveExport, ArchiveExportItem
from service.audit.models import AuditEvent
from service.cases.models import StageChange
from service.cases.stages import Stage
from service.outbox.models import OutboxEvent
from storage.filesystem import FilesystemStore

URL = "/api/v1/archive-exports"


def _nothing_written(db: Session) -> None:
    assert db.scalar(select(func.count()).select_from(ArchiveExport)) == 0
    assert db.scalar(select(func.count()).select_from(ArchiveExportItem)) == 0
    assert db.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == "archive.export")) == 0


def test_open_cases_are_refused_by_name_and_nothing_is_written(client: TestClient, db: Session) -> None:
    w = World(db)
    closed = make_case(db, w.org, w.dep, stage=Stage.CLOSED)
    open_case = make_case(db, w.org, w.dep, stage=Stage.FOLLOW_UP)
    body = problem(client.post(URL, json={"case_ids": [closed.id, open_case.id]}, headers=auth(w.registrar)), 409)
    assert body["type"].endswith("/case-not-closed") and "inte avslutade" in body["detail"]
    assert [e["case_id"] for e in body["errors"]] == [open_case.id] and body["errors"][0]["stage"] == "follow_up"
    assert open_case.diarienummer in body["errors"][0]["message"] and "Uppföljning" in body["errors"][0]["message"]
    _nothing_written(db)


def test_only_the_registrar_exports(client: TestClient, db: Session) -> None:
    w = World(db)
    closed = make_case(db, w.org, w.dep, stage=Stage.CLOSED)
    for who in (w.officer, w.approver, w.admin, w.member):
        problem(client.post(URL, json={"case_ids": [closed.id]}, headers=auth(who)), 403)
        problem(client.get(URL, headers=auth(who)), 403)
    _nothing_written(db)


def test_bad_requests_are_422_on_the_field(client: TestClient, db: Session) -> None:
    w = World(db)
    closed = make_case(db, w.org, w.dep, stage=Stage.CLOSED)
    h = auth(w.registrar)
    assert error_fields(problem(client.post(URL, json={"case_ids": [closed.id, 999_999]}, headers=h), 422)) == {"case_ids"}
    assert error_fields(problem(client.post(URL, json={}, headers=h), 422)) == {"case_ids"}
    both = {"case_ids": [closed.id], "closed_from": "2026-01-01", "closed_to": "2026-12-31"}
    assert error_fields(problem(client.post(URL, json=both, headers=h), 422)) == {"case_ids"}
    assert error_fields(problem(client.post(URL, json={"closed_from": "2026-01-01"}, headers=h), 422)) == {"closed_to"}
    assert error_fields(problem(client.post(URL, json={"closed_from": "2026-02-01", "closed_to": "2026-01-01"}, headers=h), 422)) == {"closed_to"}
    assert error_fields(problem(client.post(URL, json={"closed_from": "1999-01-01", "closed_to": "1999-12-31"}, headers=h), 422)) == {"closed_from"}
    problem(client.post(URL, json={"case_ids": [0]}, headers=h), 422)
    problem(client.post(URL, json={"case_ids": [closed.id], "extra": 1}, headers=h), 422)
    _nothing_written(db)


def test_a_period_takes_every_case_closed_in_it(client: TestClient, db: Session) -> None:
    w = World(db)
    cases = {}
    for name, stage, at in (("closed_in", Stage.CLOSED, datetime(2025, 3, 2, 10, tzinfo=UTC)),
                            ("withdrawn_in", Stage.WITHDRAWN, datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),  # 2026-01-01 in Stockholm
                            ("rejected_in", Stage.REJECTED, datetime(2025, 1, 1, 0, 30, tzinfo=UTC)),
                            ("closed_before", Stage.CLOSED, datetime(2024, 12, 31, 12, tzinfo=UTC))):
        c = make_case(db, w.org, w.dep, stage=stage)
        db.add(StageChange(case_id=c.id, from_stage=Stage.FOLLOW_UP, to_stage=stage, at=at))
        cases[name] = c
    still_open = make_case(db, w.org, w.dep, stage=Stage.FOLLOW_UP)
    db.add(StageChange(case_id=still_open.id, from_stage=Stage.AGREEMENT, to_stage=Stage.FOLLOW_UP, at=datetime(2025, 6, 1, tzinfo=UTC)))
    db.flush()
    r = client.post(URL, json={"closed_from": "2025-01-01", "closed_to": "2025-12-31"}, headers=auth(w.registrar))
    assert r.status_code == 202, r.text
    got = {p["case_id"] for p in r.json()["packages"]}
    assert got == {cases["closed_in"].id, cases["rejected_in"].id}
    assert all(p["status"] == "pending" and p["download_url"] is None for p in r.json()["packages"])
    event = db.scalar(select(OutboxEvent).where(OutboxEvent.topic == "archive.export"))
    assert event.payload == {"export_id": r.json()["id"]}
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "archive.export_requested"))
    assert set(audit.after["case_ids"]) == got and audit.actor_id == w.registrar.id


def test_status_and_download(client: TestClient, db: Session, store: FilesystemStore) -> None:
    w = World(db)
    closed = make_case(db, w.org, w.dep, stage=Stage.CLOSED)
    ids = stored_export(db, store, w.registrar, closed)
    h = auth(w.registrar)
    status = client.get(f"{URL}/{ids['archive_export']}", headers=h).json()
    package = status["packages"][0]
    assert status["status"] == "done" and package["case_id"] == closed.id and package["sha256"]
    dl = client.get(package["download_url"], headers=h)
    assert dl.status_code == 200 and dl.content.startswith(b"PK") and dl.headers["etag"] == f'"{package["sha256"]}"'
    assert "uuid-matrix.zip" in dl.headers["content-disposition"]
    assert [e["id"] for e in client.get(URL, headers=h).json()] == [ids["archive_export"]]
    problem(client.get(f"{URL}/999999", headers=h), 404)
    problem(client.get(f"{URL}/{ids['archive_export']}/packages/999999/content", headers=h), 404)
    # A package whose stored bytes changed is refused, never handed out.
    item = db.get(ArchiveExportItem, ids["archive_package"])
    item.sha256 = "0" * 64
    db.flush()
    problem(client.get(package["download_url"], headers=h), 409)
    item.status = "pending"
    db.flush()
    assert problem(client.get(package["download_url"], headers=h), 409)["type"].endswith("/package-not-ready")


def test_a_retried_request_with_its_idempotency_key_orders_one_job(client: TestClient, db: Session) -> None:
    w = World(db)
    closed = make_case(db, w.org, w.dep, stage=Stage.CLOSED)
    headers = {**auth(w.registrar), "Idempotency-Key": "uttag-1"}
    first = client.post(URL, json={"case_ids": [closed.id]}, headers=headers)
    again = client.post(URL, json={"case_ids": [closed.id]}, headers=headers)
    assert first.status_code == again.status_code == 202 and again.headers["idempotency-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and db.scalar(select(func.count()).select_from(ArchiveExport)) == 1
    other = make_case(db, w.org, w.dep, stage=Stage.REJECTED)
    problem(client.post(URL, json={"case_ids": [other.id]}, headers=headers), 422)  # the same key for another request
