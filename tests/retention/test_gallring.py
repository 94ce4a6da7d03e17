"""Gallring: due from the case's closure by the plan's rule, nothing deleted before a registrar approves, object lock waits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from factories import World
from sqlalchemy import select
from gallring_world import add, add_locked, close, open_case, versions

from service.audit.models import AuditEvent
from service.audit.service import verify
from service.cases.stages import Stage
from service.config import Settings
from service.diarium.models import DiaryEntry
from service.documents.models import DocumentKind
from service.errors import Conflict, Forbidden, ValidationFailed
from service.outbox.models import OutboxEvent
from service.retention import service as retention
from service.retention.models import DecisionStatus, ItemStatus

DAY = timedelta(days=1)


def _due_ids(db, now, settings=None) -> set[int]:  # noqa: ANN001
    return {d.document.id for d in retention.due_for_gallring(db, now, settings)}


def test_due_counts_the_plans_years_from_the_closure_date_and_never_for_open_cases(db, store) -> None:  # noqa: ANN001
    w = World(db)
    closed = open_case(db, w)
    attachment = add(db, store, w, closed)  # Bilaga: gallras efter 5 år (the shipped plan)
    decision = add(db, store, w, closed, DocumentKind.DECISION, "beslut.pdf")  # Beslut: bevaras
    still_open = open_case(db, w)
    open_attachment = add(db, store, w, still_open)
    withdrawn = open_case(db, w)
    withdrawn_attachment = add(db, store, w, withdrawn)
    closed_at = close(db, w, closed)
    withdrawn_at = close(db, w, withdrawn, Stage.WITHDRAWN)

    # Not before five years from the closure: neither the day before, nor at once.
    assert _due_ids(db, closed_at) == set()
    assert _due_ids(db, retention.add_years(closed_at, 5) - DAY) & {attachment.id} == set()
    # Due once they have passed; the decision is kept for ever, the open case's attachment never comes up.
    due = {d.document.id: d for d in retention.due_for_gallring(db, retention.add_years(closed_at, 5) + DAY)}
    assert attachment.id in due and decision.id not in due and open_attachment.id not in due
    assert withdrawn_attachment.id in due  # withdrawn is a closure too, counted from its own date
    item = due[attachment.id]
    assert (item.document_type, item.rule.label, item.closed_at) == ("Bilaga", "gallras efter 5 år", closed_at)
    assert item.due_at == retention.add_years(closed_at, 5)
    assert withdrawn_at >= closed_at
    assert open_attachment.id not in _due_ids(db, closed_at + 100 * 365 * DAY)

    # The registrar's correction of the handlingstyp in the diarium is what the plan is applied to.
    entry = db.scalar(select(DiaryEntry).where(DiaryEntry.document_id == attachment.id))
    entry.document_type = "Avtal"
    db.flush()
    assert attachment.id not in _due_ids(db, closed_at + 100 * 365 * DAY)

    # A configured plan decides (two years for an Avtal): due after two years, not after one.
    plan = Settings(retention_plan={"Avtal": "gallras efter 2 år"})
    assert attachment.id not in _due_ids(db, retention.add_years(closed_at, 2) - DAY, plan)
    assert attachment.id in _due_ids(db, retention.add_years(closed_at, 2) + DAY, plan)


def test_the_plan_is_checked_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOP_RETENTION_PLAN", '{"Bilagor": "gallras efter 2 år"}')
    with pytest.raises(ValueError, match="okänd handlingstyp Bilagor"):
        Settings()
    monkeypatch.setenv("IOP_RETENTION_PLAN", '{"Bilaga": "gallras efter -2 år"}')
    with pytest.raises(ValueError, match="negativt"):
        Settings()
    monkeypatch.setenv("IOP_RETENTION_PLAN", '{"Bilaga": "kastas snart"}')
    with pytest.raises(ValueError, match="bevaras"):
        Settings()
    monkeypatch.setenv("IOP_RETENTION_PLAN", '{"Bilaga": "Gallras efter 3 år", "Beslut": "bevaras", "Meddelande": {"years": 1}}')
    plan = Settings().retention_plan
    assert (plan["Bilaga"].years, plan["Beslut"].keep, plan["Meddelande"].label) == (3, True, "gallras efter 1 år")
    monkeypatch.delenv("IOP_RETENTION_PLAN")
    assert Settings().retention_plan["Bilaga"].label == "gallras efter 5 år"  # the shipped plan


def test_the_plan_may_be_a_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    plan = tmp_path / "informationshanteringsplan.toml"
    plan.write_text('"Bilaga" = "gallras efter 10 år"\n"Undertecknat avtal" = "bevaras"\n', "utf-8")
    monkeypatch.setenv("IOP_RETENTION_PLAN_FILE", str(plan))
    loaded = Settings().retention_plan
    assert (loaded["Bilaga"].years, loaded["Undertecknat avtal"].keep, "Meddelande" in loaded) == (10, True, False)
    plan.write_text('"Bilaga" = "gallras efter -1 år"\n', "utf-8")
    with pytest.raises(ValueError, match="negativt"):
        Settings()
    plan.write_text('"Bilagor" = "bevaras"\n', "utf-8")
    with pytest.raises(ValueError, match="okänd handlingstyp Bilagor"):
        Settings()
    plan.write_text('Bilaga = \n', "utf-8")
    with pytest.raises(ValueError, match="kan inte läsas"):
        Settings()
    monkeypatch.setenv("IOP_RETENTION_PLAN_FILE", str(tmp_path / "saknas.toml"))
    with pytest.raises(ValueError, match="kan inte läsas"):
        Settings()
    plan.write_text('"Bilaga" = "bevaras"\n', "utf-8")
    monkeypatch.setenv("IOP_RETENTION_PLAN_FILE", str(plan))
    monkeypatch.setenv("IOP_RETENTION_PLAN", '{"Bilaga": "bevaras"}')
    with pytest.raises(ValueError, match="inte båda"):
        Settings()


def test_nothing_is_deleted_before_a_registrar_approves_and_the_decision_is_audited(db, store) -> None:  # noqa: ANN001
    w = World(db)
    c = open_case(db, w)
    first, second = add(db, store, w, c, name="a.pdf"), add(db, store, w, c, name="b.pdf")
    closed_at = close(db, w, c)
    later = retention.add_years(closed_at, 6)

    decision, added = retention.propose(db, later)
    assert decision.status == DecisionStatus.PROPOSED and added >= 2
    listed = {i.document_id: i for i in retention.items(db, decision)}
    assert {first.id, second.id} <= set(listed)
    # Proposing again adds nothing twice; the list alone deletes nothing.
    assert retention.propose(db, later) == (decision, 0)
    assert versions(store, first) and versions(store, second)
    assert db.scalar(select(OutboxEvent).where(OutboxEvent.topic == retention.EXECUTE_TOPIC)) is None
    # Execution of an unapproved list does nothing either.
    assert retention.execute(db, store, decision, later).disposed == []
    assert versions(store, first)

    for who in (w.officer, w.approver, w.admin, w.member):
        with pytest.raises(Forbidden):
            retention.approve(db, who, decision, None, later)
    with pytest.raises(ValidationFailed):
        retention.approve(db, w.registrar, decision, [], later)
    with pytest.raises(ValidationFailed):
        retention.approve(db, w.registrar, decision, [10**6], later)
    assert decision.status == DecisionStatus.PROPOSED and versions(store, first)

    # The registrar approves the first only: the second is left out and stays.
    others = [i.id for d, i in listed.items() if d != first.id]
    retention.approve(db, w.registrar, decision, [listed[first.id].id], later)
    assert decision.status == DecisionStatus.APPROVED and decision.approved_by_id == w.registrar.id and decision.approved_at == later
    assert listed[second.id].status == ItemStatus.EXCLUDED
    event = db.scalars(select(AuditEvent).where(AuditEvent.stream == retention.STREAM, AuditEvent.action == "retention.gallring_approved")
                       .order_by(AuditEvent.seq.desc())).first()
    assert event.actor_id == w.registrar.id and event.after["decision_id"] == decision.id
    assert [(i["document_id"], i["rule"], i["document_type"]) for i in event.after["items"]] == [(first.id, "gallras efter 5 år", "Bilaga")]
    assert second.id in event.after["excluded_document_ids"] and others
    assert verify(db, retention.STREAM).valid
    with pytest.raises(Conflict):
        retention.approve(db, w.registrar, decision, None, later)
    assert db.scalar(select(OutboxEvent).where(OutboxEvent.topic == retention.EXECUTE_TOPIC)).payload == {"decision_id": decision.id}
    assert versions(store, first)  # deleted only by the execution after the commit

    done = retention.execute(db, store, decision, later)
    assert done.disposed == [first.id] and done.waiting == {}
    assert versions(store, first) == [] and versions(store, second)
    assert decision.status == DecisionStatus.EXECUTED and first.disposed_at == later and first.disposal_decision_id == decision.id
    # The row and the diary entry stay, saying that the handling was gallrad, when and by which decision.
    entry = db.scalar(select(DiaryEntry).where(DiaryEntry.document_id == first.id))
    assert (entry.disposed_at, entry.disposal_decision_id) == (later, decision.id)
    assert db.scalar(select(DiaryEntry).where(DiaryEntry.document_id == second.id)).disposed_at is None
    gone = db.scalar(select(AuditEvent).where(AuditEvent.case_id == c.id, AuditEvent.action == "document.disposed"))
    assert gone.after["document_id"] == first.id and gone.after["decision_id"] == decision.id and gone.after["sha256"] == first.sha256
    # Gallrad documents are not due again; the left-out one is, for a later list.
    assert first.id not in _due_ids(db, later) and second.id in _due_ids(db, later)


def test_a_stale_list_is_refused_when_the_plan_changed(db, store) -> None:  # noqa: ANN001
    w = World(db)
    c = open_case(db, w)
    doc = add(db, store, w, c)
    later = retention.add_years(close(db, w, c), 6)
    decision, _ = retention.propose(db, later)
    item = next(i for i in retention.items(db, decision) if i.document_id == doc.id)
    keep_all = Settings(retention_plan={"Bilaga": "bevaras"})
    with pytest.raises(Conflict) as refused:
        retention.approve(db, w.registrar, decision, [item.id], later, keep_all)
    assert refused.value.extra["item_ids"] == [item.id]
    assert decision.status == DecisionStatus.PROPOSED and versions(store, doc)


def test_an_object_under_lock_waits_and_is_deleted_once_the_lock_has_ended(db, store) -> None:  # noqa: ANN001
    w = World(db)
    c = open_case(db, w)
    free = add(db, store, w, c, name="fri.pdf")
    # A lock of a few seconds stands in for a signed agreement's ten years: the store's own clock must pass it.
    until = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    locked = add_locked(db, store, w, c, until)
    later = retention.add_years(close(db, w, c), 6)
    decision, _ = retention.propose(db, later)
    retention.approve(db, w.registrar, decision, None, later)

    # Asked with our clock past the lock, the store itself still refuses: the item waits, the free one goes.
    first = retention.execute(db, store, decision, later)
    assert first.disposed == [free.id] and set(first.waiting) == {locked.id}
    assert versions(store, locked) and versions(store, free) == []
    item = next(i for i in retention.items(db, decision) if i.document_id == locked.id)
    assert item.status == ItemStatus.WAITING and item.locked_until == until and locked.disposed_at is None
    assert retention.state_label(item).startswith("väntar: under lås till ")
    assert decision.status == DecisionStatus.APPROVED  # not executed while something waits

    # Today, before the lock ends: not even tried, still waiting; the flow does not resume it yet.
    now = datetime.now(UTC)
    assert retention.execute(db, store, decision, now).waiting == {locked.id: until}
    assert retention.resume_waiting(db, now) == []
    assert versions(store, locked)

    while datetime.now(UTC) <= until + timedelta(seconds=1):  # the store's clock, not ours: wait out the few seconds
        time.sleep(0.2)
    after = datetime.now(UTC)
    assert retention.resume_waiting(db, after) == [decision.id]
    done = retention.execute(db, store, decision, after)
    assert done.disposed == [locked.id] and done.waiting == {}
    assert versions(store, locked) == [] and locked.disposed_at == after
    assert decision.status == DecisionStatus.EXECUTED and retention.state_label(item).startswith("gallrad ")
