"""Write and verify the hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from service.audit.models import AuditEvent
from service.auth.models import User
from service.db import utcnow

GENESIS = "0" * 64
AUDIT_LOCK_NAMESPACE = 0x4155  # "AU"


def _plain(value: Any) -> Any:
    """JSON-native copy so the hash is the same before and after a database round trip."""
    return None if value is None else json.loads(json.dumps(value, default=str, ensure_ascii=False))


def digest(value: Any) -> str | None:
    """sha256 of a value's canonical JSON (None for nothing): shows later which text a row held without keeping it."""
    if value in (None, "", [], {}):
        return None
    return hashlib.sha256(json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def text_summary(**texts: Any) -> dict[str, Any]:
    """Which free-text fields were given and one digest of them, never the text itself.

    The chain is append-only and cannot forget: names, e-mail addresses and anything else a person
    writes into a free-text field would outlive a GDPR erasure there. Audit events therefore record
    ids, counts, structured values and this summary; the text stays in its (erasable) row.
    """
    given = {k: v for k, v in texts.items() if v not in (None, "", [], {})}
    return {"text_fields": sorted(given), "text_sha256": digest(given)} if given else {"text_fields": []}


def canonical(event: AuditEvent) -> str:
    """The event's hashed content, as canonical JSON."""
    return json.dumps(
        {
            "stream": event.stream,
            "seq": event.seq,
            "case_id": event.case_id,
            "actor_id": event.actor_id,
            "actor_label": event.actor_label,
            "action": event.action,
            "before": event.before,
            "after": event.after,
            "at": event.at.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    """sha256(prev_hash + canonical event)."""
    return hashlib.sha256((prev_hash + canonical(event)).encode()).hexdigest()


def stream_for(case_id: int | None, stream: str | None) -> str:
    """Cases have their own chain; other entities name theirs."""
    if stream:
        return stream
    if case_id is None:
        raise ValueError("audit event needs a case or a stream")
    return f"case:{case_id}"


def lock_stream(session: Session, name: str) -> None:
    """Queue behind other writers of this stream until the holder commits (taken again later in the same transaction: free).

    Two messages or uploads on a case must both land, each with the next number, not one fail on a unique key as a
    spurious 409. Writers that number something per case (document versions) take it before they count. SQLite
    already serialises writers (BEGIN IMMEDIATE). The first key names this use among the database's advisory locks.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:stream))"), {"ns": AUDIT_LOCK_NAMESPACE, "stream": name})


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    case_id: int | None = None,
    stream: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to its stream's chain (flushes; the request commits)."""
    name = stream_for(case_id, stream)
    lock_stream(session, name)
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.stream == name).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    prev_seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
    event = AuditEvent(
        stream=name,
        seq=prev_seq + 1,
        case_id=case_id,
        actor_id=actor.id if actor else None,
        actor_label=f"{actor.full_name} ({actor.role})" if actor else "system",
        action=action,
        before=_plain(before),
        after=_plain(after),
        at=utcnow(),
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(prev_hash, event)
    session.add(event)
    session.flush()
    return event


def record_many(session: Session, events: list[dict[str, Any]], *, actor: User | None = None) -> list[AuditEvent]:
    """Append many events (each a dict of record()'s keyword arguments but actor) in a few statements, not four each:
    the streams are locked in one statement, in a fixed order, and their heads read in one query."""
    if not events:
        return []
    names = [stream_for(e.get("case_id"), e.get("stream")) for e in events]
    streams = sorted(set(names))
    if session.get_bind().dialect.name == "postgresql":
        # Sorted like any other multi-stream writer would, so two sweeps queue instead of deadlocking.
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, h) FROM (SELECT hashtext(s) AS h FROM unnest(CAST(:streams AS text[])) AS s"
                             " ORDER BY 1 OFFSET 0) AS locks"), {"ns": AUDIT_LOCK_NAMESPACE, "streams": streams})
    heads: dict[str, tuple[int, str]] = {name: (0, GENESIS) for name in streams}
    latest = select(AuditEvent.stream, func.max(AuditEvent.seq).label("seq")).where(AuditEvent.stream.in_(streams)).group_by(AuditEvent.stream).subquery()
    for name, seq, hash_ in session.execute(select(AuditEvent.stream, AuditEvent.seq, AuditEvent.hash)
                                            .join(latest, (latest.c.stream == AuditEvent.stream) & (latest.c.seq == AuditEvent.seq))):
        heads[name] = (seq, hash_)
    out = []
    at = utcnow()
    for name, e in zip(names, events, strict=True):
        prev_seq, prev_hash = heads[name]
        event = AuditEvent(stream=name, seq=prev_seq + 1, case_id=e.get("case_id"), actor_id=actor.id if actor else None,
                           actor_label=f"{actor.full_name} ({actor.role})" if actor else "system", action=e["action"],
                           before=_plain(e.get("before")), after=_plain(e.get("after")), at=at, prev_hash=prev_hash)
        event.hash = compute_hash(prev_hash, event)
        heads[name] = (event.seq, event.hash)
        out.append(event)
    session.add_all(out)
    session.flush()
    return out


@dataclass
class ChainReport:
    """Result of verifying one stream."""

    stream: str
    valid: bool
    events: int
    broken_at_seq: int | None = None
    reason: str | None = None


def verify(session: Session, stream: str) -> ChainReport:
    """Recompute every hash of a stream and check the links and sequence."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.stream == stream).order_by(AuditEvent.seq)).all()
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return ChainReport(stream, False, len(events), event.seq, "sekvensen har en lucka / sequence gap")
        if event.prev_hash != prev:
            return ChainReport(stream, False, len(events), event.seq, "länken är bruten / prev_hash mismatch")
        if compute_hash(prev, event) != event.hash:
            return ChainReport(stream, False, len(events), event.seq, "innehållet är ändrat / content changed")
        prev = event.hash
    return ChainReport(stream, True, len(events))
