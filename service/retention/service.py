"""Gallring: what the informationshanteringsplan makes due, the registrar's decision, and deleting the approved objects.

Contract: nothing is deleted before a registrar approves a list (`approve`), and then only by `execute` (run from the
outbox after the approval commits, and again by the gallring flow for what waited under lock). A handling is due when
its case is closed (closed, rejected or withdrawn; the date from the stage history, `service.cases.closure`) and its
handlingstyp's rule ("gallras efter N år") counts N years from that date to before `now`; a type the plan keeps
("bevaras") or does not name is never due. Executing deletes every stored version of the document's key; a version
under object lock is not touched (the store would refuse it anyway) and its item waits until the lock ends. The
document row and its diary entry stay, marked gallrad with the date and the decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from service.audit.service import lock_stream, record
from service.auth.models import Role, User
from service.cases.closure import closures
from service.cases.models import Case
from service.config import RetentionRule, Settings, get_settings
from service.db import utcnow
from service.diarium import service as diarium
from service.diarium.models import DiaryEntry
from service.documents.models import Document
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.outbox.service import emit
from service.retention.models import DecisionStatus, DisposalDecision, DisposalItem, ItemStatus
from service.schemas import MAX_ID
from storage.base import ObjectLocked, ObjectNotFound, ObjectStore

log = logging.getLogger(__name__)

# The audit stream of gallring decisions (they span cases; each case's own stream records its gallrade documents).
STREAM = "retention"
EXECUTE_TOPIC = "retention.execute"
PENDING = (ItemStatus.PROPOSED, ItemStatus.APPROVED, ItemStatus.WAITING)
KEEP = RetentionRule()


def plan(settings: Settings | None = None) -> dict[str, RetentionRule]:
    """The informationshanteringsplan: a rule per handlingstyp (IOP_RETENTION_PLAN, checked at startup)."""
    return dict((settings or get_settings()).retention_plan or {})


def rule_for(document_type: str, settings: Settings | None = None) -> RetentionRule:
    """The rule of a handlingstyp; a type the plan does not name is kept."""
    return plan(settings).get(document_type, KEEP)


def add_years(moment: datetime, years: int) -> datetime:
    """The same date `years` later (29 February becomes 28 February in a common year)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@dataclass
class Due:
    """A document version whose retention period has passed."""

    document: Document
    case: Case
    document_type: str
    rule: RetentionRule
    closed_at: datetime
    due_at: datetime
    listed_in: int | None = None  # the open gallring decision it is already on


def ensure_registrar(user: User) -> None:
    """Gallring is the registrar's work (403 for everyone else)."""
    if user.role != Role.REGISTRAR:
        raise Forbidden("Endast registratorn hanterar gallring / only the registrar handles gallring")


def due_for_gallring(session: Session, now: datetime | None = None, settings: Settings | None = None) -> list[Due]:
    """Documents of closed cases whose handlingstyp's retention period, counted from the closure, has passed by `now`.

    Gallrade documents are left out; those on an open decision carry its id (`listed_in`). Ordered by closure, then id.
    """
    now = now or utcnow()
    rules = plan(settings)
    years = [r.years for r in rules.values() if r.years is not None]
    if not years:
        return []
    closed = closures()
    # A year is at least 365 days: the database narrows to cases closed long enough ago for the shortest rule, the
    # exact calendar arithmetic below decides.
    cutoff = now - timedelta(days=365 * min(years))
    listed = (select(DisposalItem.decision_id).where(DisposalItem.document_id == Document.id, DisposalItem.status.in_(PENDING))
              .limit(1).scalar_subquery())
    rows = session.execute(
        select(Document, Case, closed.c.closed_at, DiaryEntry.document_type, listed)
        .join(Case, Case.id == Document.case_id)
        .join(closed, closed.c.case_id == Document.case_id)
        .outerjoin(DiaryEntry, DiaryEntry.document_id == Document.id)
        .where(Document.disposed_at.is_(None), closed.c.closed_at <= cutoff)
        .order_by(closed.c.closed_at, Document.id)
    ).all()
    out: list[Due] = []
    for doc, case, closed_at, entry_type, decision_id in rows:
        # A PDF/A, signed or sealed copy has no diary entry of its own: its kind's handlingstyp decides.
        document_type = entry_type or diarium.type_for(doc.kind, settings)
        rule = rules.get(document_type, KEEP)
        if rule.years is None:
            continue
        due_at = add_years(closed_at, rule.years)
        if due_at <= now:
            out.append(Due(doc, case, document_type, rule, closed_at, due_at, decision_id))
    return out


def propose(session: Session, now: datetime | None = None, *, actor: User | None = None,
            settings: Settings | None = None) -> tuple[DisposalDecision | None, int]:
    """Put what is due and on no open list on the proposed decision (made if there is none); (decision, items added).

    Called by the gallring flow (actor None) and by a registrar; registrars are notified of a list that grew.
    """
    now = now or utcnow()
    # The flow and a registrar (or two) may propose at once: one at a time, so nothing goes on two lists.
    lock_stream(session, STREAM)
    fresh = [d for d in due_for_gallring(session, now, settings) if d.listed_in is None]
    decision = session.scalar(select(DisposalDecision).where(DisposalDecision.status == DecisionStatus.PROPOSED)
                              .order_by(DisposalDecision.id).limit(1))
    if not fresh:
        return decision, 0
    if decision is None:
        decision = DisposalDecision(status=DecisionStatus.PROPOSED, created_at=now, created_by_id=actor.id if actor else None)
        session.add(decision)
        session.flush()
    session.add_all([DisposalItem(decision_id=decision.id, document_id=d.document.id, case_id=d.case.id, document_type=d.document_type,
                                  rule=d.rule.label, years=d.rule.years, closed_at=d.closed_at, due_at=d.due_at, status=ItemStatus.PROPOSED)
                     for d in fresh])
    session.flush()
    record(session, actor=actor, action="retention.gallring_proposed", stream=STREAM,
           after={"decision_id": decision.id, "added": len(fresh), "document_ids": [d.document.id for d in fresh], "at": now})
    _notify_registrars(session, decision, settings)
    return decision, len(fresh)


def _notify_registrars(session: Session, decision: DisposalDecision, settings: Settings | None) -> None:
    from service.notifications.service import notify

    settings = settings or get_settings()
    count = len(items(session, decision))
    registrars = list(session.scalars(select(User).where(User.role == Role.REGISTRAR, User.is_active.is_(True))))
    notify(session, registrars, key=f"gallring:{decision.id}:{count}", template="gallring_proposed", case_id=None,
           title=f"Gallringslista {decision.id}: {count} handlingar väntar på beslut",
           body="Handlingar i avslutade ärenden får gallras enligt informationshanteringsplanen. Inget raderas förrän listan godkänns.",
           context={"decision_id": decision.id, "count": count, "gallring_url": f"{settings.public_base_url}/gallring"})


def get_decision(session: Session, decision_id: int) -> DisposalDecision:
    """A gallring decision, or 404."""
    decision = session.get(DisposalDecision, decision_id) if 0 < decision_id <= MAX_ID else None
    if decision is None:
        raise NotFound("Gallringsbeslutet finns inte / gallring decision not found")
    return decision


def items(session: Session, decision: DisposalDecision) -> list[DisposalItem]:
    """A decision's items by id."""
    return list(session.scalars(select(DisposalItem).where(DisposalItem.decision_id == decision.id).order_by(DisposalItem.id)))


def list_decisions(session: Session, limit: int = 100) -> list[DisposalDecision]:
    """The latest gallring decisions, newest first."""
    return list(session.scalars(select(DisposalDecision).order_by(DisposalDecision.id.desc()).limit(limit)))


def approve(session: Session, user: User, decision: DisposalDecision, item_ids: list[int] | None, now: datetime | None = None,
            settings: Settings | None = None) -> DisposalDecision:
    """A registrar approves a proposed list, all of it (`item_ids` None) or the chosen items; the rest is left out.

    Every chosen item must still be due under today's plan (409 otherwise: make a new list). Audited with who, when and
    which rule; the deletion runs from the outbox after the commit.
    """
    ensure_registrar(user)
    now = now or utcnow()
    lock_stream(session, STREAM)  # after a proposal that is adding to this list, and a second approval, not beside them
    session.refresh(decision)
    if decision.status != DecisionStatus.PROPOSED:
        raise Conflict("Gallringsbeslutet är redan fattat / the gallring decision has already been made",
                       decision_status=decision.status)
    listed = items(session, decision)
    by_id = {i.id: i for i in listed}
    chosen = set(by_id) if item_ids is None else set(item_ids)
    unknown = sorted(chosen - set(by_id))
    if unknown:
        raise ValidationFailed(errors=[{"field": "item_ids", "message": "Finns inte på gallringslistan / not on the list",
                                        "item_ids": unknown}])
    if not chosen:
        raise ValidationFailed(errors=[{"field": "item_ids", "message": "Välj minst en handling / choose at least one item"}])
    still_due = {d.document.id for d in due_for_gallring(session, now, settings)}
    stale = sorted(i for i in chosen if by_id[i].document_id not in still_due)
    if stale:
        raise Conflict("Några handlingar får inte längre gallras (planen eller ärendet har ändrats); gör en ny lista / "
                       "some items are no longer due, make a new list", item_ids=stale)
    for item in listed:
        item.status = ItemStatus.APPROVED if item.id in chosen else ItemStatus.EXCLUDED
    decision.status, decision.approved_by_id, decision.approved_at = DecisionStatus.APPROVED, user.id, now
    session.flush()
    approved = [i for i in listed if i.id in chosen]
    record(session, actor=user, action="retention.gallring_approved", stream=STREAM, after={
        "decision_id": decision.id, "approved_at": now,
        "items": [{"item_id": i.id, "document_id": i.document_id, "case_id": i.case_id, "document_type": i.document_type,
                   "rule": i.rule, "closed_at": i.closed_at, "due_at": i.due_at} for i in approved],
        "excluded_document_ids": [i.document_id for i in listed if i.id not in chosen]})
    emit(session, EXECUTE_TOPIC, {"decision_id": decision.id})
    return decision


@dataclass
class Execution:
    """What one execution of a decision did (document ids)."""

    disposed: list[int] = field(default_factory=list)
    waiting: dict[int, datetime | None] = field(default_factory=dict)  # document id: locked until (None: not known)


def execute(session: Session, store: ObjectStore, decision: DisposalDecision, now: datetime | None = None) -> Execution:
    """Delete the objects of a decision's approved and waiting items; the decision is executed once none waits.

    StorageUnavailable propagates (the outbox retries); a delete already done is found gone and counted gallrad.
    """
    now = now or utcnow()
    result = Execution()
    # Two outbox workers may run the same decision (its approval's event and the sweep's resumption): one at a time.
    lock_stream(session, STREAM)
    session.refresh(decision)
    if decision.status != DecisionStatus.APPROVED:
        return result
    for item in items(session, decision):
        if item.status in (ItemStatus.APPROVED, ItemStatus.WAITING):
            execute_item(session, store, decision, item, now, result)
    if not result.waiting:
        decision.status, decision.executed_at = DecisionStatus.EXECUTED, now
    session.flush()
    return result


def execute_item(session: Session, store: ObjectStore, decision: DisposalDecision, item: DisposalItem, now: datetime,
                 result: Execution) -> None:
    """Delete every version of one document's object unless one is under lock; mark the row and diary entry gallrad."""
    doc = session.get(Document, item.document_id)
    key = doc.storage_key
    locked: list[datetime | None] = []
    for version in [v for v in store.list_versions(key) if v.key == key]:
        try:
            until = store.stat(key, version.version_id).retain_until
        except ObjectNotFound:
            continue  # deleted meanwhile (a retried execution)
        if until is not None and until > now:
            locked.append(until)  # not even tried: the lock is the store's promise, and ours
            continue
        try:
            store.delete(key, version.version_id)
        except ObjectLocked:
            # The store's clock (or a bucket default retention we did not set) still holds it.
            locked.append(until)
    if locked:
        known = [u for u in locked if u is not None]
        item.status, item.locked_until = ItemStatus.WAITING, max(known) if known else None
        result.waiting[doc.id] = item.locked_until
        log.info("gallring %s: document %s under lock until %s", decision.id, doc.id, item.locked_until)
        return
    item.status, item.disposed_at, item.locked_until = ItemStatus.DISPOSED, now, None
    doc.disposed_at, doc.disposal_decision_id = now, decision.id
    entry = session.scalar(select(DiaryEntry).where(DiaryEntry.document_id == doc.id))
    if entry is not None:
        entry.disposed_at, entry.disposal_decision_id = now, decision.id
    session.flush()
    record(session, actor=None, action="document.disposed", case_id=item.case_id, after={
        "document_id": doc.id, "decision_id": decision.id, "document_type": item.document_type, "rule": item.rule,
        "sha256": doc.sha256, "diary_entry_id": entry.id if entry else None, "at": now})
    result.disposed.append(doc.id)


def resume_waiting(session: Session, now: datetime | None = None) -> list[int]:
    """Emit an execution for every approved decision with an item whose lock has ended by `now`; the decision ids."""
    now = now or utcnow()
    ready = exists().where(DisposalItem.decision_id == DisposalDecision.id, DisposalItem.status == ItemStatus.WAITING,
                           (DisposalItem.locked_until.is_(None)) | (DisposalItem.locked_until <= now))
    ids = list(session.scalars(select(DisposalDecision.id).where(DisposalDecision.status == DecisionStatus.APPROVED, ready)))
    for decision_id in ids:
        emit(session, EXECUTE_TOPIC, {"decision_id": decision_id})
    return ids


def state_label(item: DisposalItem, settings: Settings | None = None) -> str:
    """How the registrar reads an item's state, e.g. "väntar: under lås till 2036-12-06" (dates in local time)."""
    tz = ZoneInfo((settings or get_settings()).timezone)

    def day(moment: datetime | None) -> str:
        return f" {moment.astimezone(tz):%Y-%m-%d}" if moment else ""

    if item.status == ItemStatus.WAITING:
        return f"väntar: under lås till{day(item.locked_until)}" if item.locked_until else "väntar: under lås"
    if item.status == ItemStatus.DISPOSED:
        return f"gallrad{day(item.disposed_at)}"
    return {ItemStatus.PROPOSED: "föreslagen", ItemStatus.APPROVED: "godkänd, raderas", ItemStatus.EXCLUDED: "undantagen"}.get(
        item.status, item.status)
