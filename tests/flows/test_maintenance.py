"""Maintenance as real Prefect flow runs: orphans go (fresh ones within the hour), documents stay, old Idempotency-Keys expire."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import yaml
from factories import World, case
from pydantic import BaseModel
from sqlalchemy import event, func, select, update

from service.cases.stages import Stage
from service.db import get_engine, utcnow
from service.documents import service as documents
from service.documents.models import DocumentKind
from service.idempotency import Idempotency, IdempotencyRecord

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ROOT = Path(__file__).resolve().parents[2]


def maintenance(**kw):  # noqa: ANN003, ANN201
    from flows.maintenance import storage_maintenance

    return asyncio.run(storage_maintenance(**kw))


def orphan_sweep(**kw):  # noqa: ANN003, ANN201
    from flows.maintenance import orphan_sweep

    return asyncio.run(orphan_sweep(**kw))


def _kept_and_lost(env):  # noqa: ANN001, ANN202
    """One committed document and one whose commit never happened (an orphan in the store)."""
    store = documents.get_store()  # the configured store the flows use too
    with env() as s, s.begin():
        w = World(s)
        c = case(s, w.org, w.dep, stage=Stage.DIALOGUE, officer_id=w.officer.id)
        kept = documents.store_document(s, store, case=c, kind=DocumentKind.ATTACHMENT, filename="bilaga.pdf",
                                        content=PDF, content_type="application/pdf", user=w.member)
        kept_ref, case_id = (kept.storage_key, kept.storage_version_id), c.id
    with env() as s:
        with s.begin():
            from service.cases.models import Case

            c = s.get(Case, case_id)
            lost = documents.store_document(s, store, case=c, kind=DocumentKind.ATTACHMENT, filename="förlorad.pdf",
                                            content=PDF, content_type="application/pdf", user=None)
            lost_key = lost.storage_key
            s.rollback()  # the commit never happens
    return store, kept_ref, lost_key


def test_storage_maintenance_removes_orphans_and_keeps_documents(env) -> None:  # noqa: ANN001
    store, kept_ref, lost_key = _kept_and_lost(env)
    assert maintenance() == {"scanned": 2, "removed": 0, "locked": 0, "failed": 0, "idempotency_keys_expired": 0}
    result = maintenance(older_than_hours=1, now=utcnow() + timedelta(hours=2))
    assert result == {"scanned": 2, "removed": 1, "locked": 0, "failed": 0, "idempotency_keys_expired": 0}
    assert not store.exists(lost_key)
    assert store.get(*kept_ref) == PDF


def test_a_fresh_orphan_is_gone_within_75_minutes_not_two_days(env) -> None:  # noqa: ANN001
    """A buffered upload carried out after the API's 503: the 15-minute sweep takes it once it is an hour old."""
    store, kept_ref, lost_key = _kept_and_lost(env)
    assert orphan_sweep(now=utcnow() + timedelta(minutes=50)) == {"scanned": 2, "removed": 0, "locked": 0, "failed": 0}
    assert store.exists(lost_key)  # younger than an hour: its transaction might still be open
    assert orphan_sweep(now=utcnow() + timedelta(minutes=75)) == {"scanned": 2, "removed": 1, "locked": 0, "failed": 0}
    assert not store.exists(lost_key)
    assert store.get(*kept_ref) == PDF


def _schedules(dep) -> list[str]:  # noqa: ANN001
    return [getattr(s.schedule, "cron", None) or str(s.schedule.interval.total_seconds()) for s in dep.schedules]


def test_orphans_every_15_minutes_and_full_maintenance_daily_in_serve_and_prefect_yaml() -> None:
    from flows.serve import deployments

    served = {d.name: (d.entrypoint.rsplit(":", 1)[-1] if d.entrypoint else d.flow_name, _schedules(d)) for d in deployments()}
    assert served["every-15-min"] == ("orphan_sweep", ["*/15 * * * *"])
    assert served["daily"] == ("storage_maintenance", ["30 3 * * *"])
    declared = {d["name"]: (d["entrypoint"], [s.get("cron") or str(float(s["interval"])) for s in d.get("schedules", [])])
                for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}
    assert declared["every-15-min"] == ("flows/maintenance.py:orphan_sweep", ["*/15 * * * *"])
    # Every served deployment is declared for the worker too, on the same schedule.
    assert {name: sched for name, (_, sched) in served.items()} == {name: sched for name, (_, sched) in declared.items()}


def _count_deletes(engine, statements: list[str]) -> None:  # noqa: ANN001
    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, params, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("DELETE FROM IDEMPOTENCY_KEYS"):
            statements.append(statement)


def test_daily_maintenance_expires_idempotency_keys_older_than_a_day_in_batches(env, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("IOP_IDEMPOTENCY_CLEANUP_BATCH", "100")
    from service.config import get_settings

    get_settings.cache_clear()
    now = utcnow()
    with env() as s, s.begin():
        w = World(s)
        users = [w.member.id, w.officer.id, w.admin.id]
        for i in range(250):
            s.add(IdempotencyRecord(user_id=users[i % 3], key=f"old-{i}", request_hash="0" * 64, status_code=201, body={},
                                    created_at=now - timedelta(hours=24, minutes=1 + i)))
        for i in range(3):
            s.add(IdempotencyRecord(user_id=users[i], key=f"fresh-{i}", request_hash="0" * 64, status_code=201, body={},
                                    created_at=now - timedelta(hours=23, minutes=59)))
    deletes: list[str] = []
    _count_deletes(get_engine(), deletes)
    result = maintenance(now=now)
    assert result["idempotency_keys_expired"] == 250
    assert len(deletes) == 3  # 100 + 100 + 50: short transactions, not one huge delete
    with env() as s:
        left = s.scalars(select(IdempotencyRecord.key).order_by(IdempotencyRecord.key)).all()
    assert left == ["fresh-0", "fresh-1", "fresh-2"]
    assert maintenance(now=now)["idempotency_keys_expired"] == 0


class _Out(BaseModel):
    n: int


def test_an_expired_key_not_yet_swept_is_a_fresh_key(env) -> None:  # noqa: ANN001
    """Within 24 h the same key replays (or refuses another request); after that it creates anew."""
    with env() as s, s.begin():
        uid = World(s).member.id
    idem = Idempotency("retry-1", "/api/v1/cases")
    with env() as s, s.begin():
        assert idem.run(s, uid, {"a": 1}, _Out, lambda: {"n": 1}).n == 1
    with env() as s, s.begin():
        assert idem.run(s, uid, {"a": 1}, _Out, lambda: {"n": 2}).headers["Idempotency-Replayed"] == "true"
        s.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=24, seconds=1)))
    with env() as s, s.begin():
        assert idem.run(s, uid, {"a": 2}, _Out, lambda: {"n": 3}).n == 3  # not a 422: the old use has expired
    with env() as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_the_sweep_takes_orphaned_template_uploads_and_keeps_used_ones_and_pointers(env) -> None:  # noqa: ANN001
    from service.doctemplates import active
    from service.doctemplates import service as doctemplates
    from service.doctemplates.kinds import TemplateKind

    store = documents.get_store()
    shipped = (ROOT / "templates" / "beslut.docx").read_bytes()
    with env() as s, s.begin():
        admin = World(s).admin
        kept = doctemplates.upload(s, store, admin, TemplateKind.DECISION, "beslut.docx", shipped, documents.DOCX)
        doctemplates.activate(s, store, admin, TemplateKind.DECISION, kept.version)
        kept_ref = (kept.storage_key, kept.storage_version_id)
    with env() as s:
        with s.begin():
            lost = doctemplates.upload(s, store, World(s).admin, TemplateKind.DECISION, "ny.docx", shipped, documents.DOCX)
            lost_key = lost.storage_key
            s.rollback()  # the commit never happens
    result = orphan_sweep(now=utcnow() + timedelta(minutes=75))
    assert result == {"scanned": 3, "removed": 1, "locked": 0, "failed": 0}  # kept version, pointer, orphan
    assert not store.exists(lost_key)
    assert store.get(*kept_ref) == shipped
    assert active.read_pointer(store, TemplateKind.DECISION)["version"] == kept.version
