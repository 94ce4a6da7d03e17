"""Idempotency-Key on creating POSTs: a repeated request returns the first response.

A client that did not get an answer (a timeout, a dropped connection on a municipal network) may
send the same POST again with the same `Idempotency-Key` header. The first response is stored in
the same transaction as the change, per user and key, so the change and its record commit or roll
back together: a retry then gets the stored response (`Idempotency-Replayed: true`) and nothing is
created twice. The same key with a different request is a 422; two identical requests in flight at
once: one creates, the other gets 409 (PostgreSQL) or the replay (SQLite serialises writers).

Keys expire after ``idempotency_ttl_hours`` (24 h): an expired key is a fresh key (its old record is
replaced), and the maintenance flow deletes expired records in batches (``delete_expired``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, delete, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.config import get_settings
from service.db import Base, utcnow
from service.errors import ValidationFailed

REPLAYED = "Idempotency-Replayed"


class IdempotencyRecord(Base):
    """The stored response of a request made with an Idempotency-Key."""

    __tablename__ = "idempotency_keys"
    # The expiry sweep finds old records by index, not by scanning every stored response.
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Idempotency:
    """The request's Idempotency-Key (or none) and where it was sent."""

    def __init__(self, key: str | None, path: str) -> None:
        self.key = key
        self.path = path

    def fingerprint(self, payload: Any) -> str:
        """sha256 of the route and the validated input (not the raw bytes: multipart boundaries differ per retry)."""
        if isinstance(payload, BaseModel):
            payload = payload.model_dump(mode="json")
        canonical = json.dumps({"path": self.path, "input": payload}, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def run(self, session: Session, user_id: int, payload: Any, out: type[BaseModel], create: Callable[[], Any],
            status_code: int = 201) -> Any:
        """The stored response for a repeated key, else `create()`'s result, remembered with the change."""
        if not self.key:
            return create()
        fingerprint = self.fingerprint(payload)
        stored = session.get(IdempotencyRecord, (user_id, self.key))
        if stored is not None and stored.created_at < expiry_cutoff():
            session.delete(stored)  # expired but not yet swept: the key is free again
            session.flush()
            stored = None
        if stored is not None:
            if stored.request_hash != fingerprint:
                raise ValidationFailed(
                    "Idempotency-Key har redan använts för en annan begäran / Idempotency-Key was used for a different request",
                    errors=[{"field": "header.Idempotency-Key", "message": "används redan för en annan begäran / already used"}])
            return JSONResponse(stored.body, status_code=stored.status_code, headers={REPLAYED: "true"})
        result = out.model_validate(create())
        session.add(IdempotencyRecord(user_id=user_id, key=self.key, request_hash=fingerprint, status_code=status_code,
                                      body=result.model_dump(mode="json")))
        session.flush()  # a concurrent twin that got here first makes this a unique violation: 409, its change rolled back
        return result


def expiry_cutoff(now: datetime | None = None) -> datetime:
    """Records created before this instant have expired."""
    return (now or utcnow()) - timedelta(hours=get_settings().idempotency_ttl_hours)


def delete_expired(session: Session, *, now: datetime | None = None, batch: int | None = None) -> int:
    """Delete up to ``batch`` expired records, oldest first (the caller commits per batch); how many went."""
    limit = batch or get_settings().idempotency_cleanup_batch
    oldest = (select(IdempotencyRecord.user_id, IdempotencyRecord.key)
              .where(IdempotencyRecord.created_at < expiry_cutoff(now))
              .order_by(IdempotencyRecord.created_at).limit(limit))
    result = session.execute(delete(IdempotencyRecord).where(tuple_(IdempotencyRecord.user_id, IdempotencyRecord.key).in_(oldest))
                             .execution_options(synchronize_session=False))
    return result.rowcount


async def idempotency_key(
    request: Request,
    key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
                                      description="Valfri nyckel: samma nyckel igen ger samma svar och skapar inget nytt / "
                                                  "optional: a retry with the same key returns the first response")] = None,
) -> Idempotency:
    """The Idempotency-Key header of a creating POST."""
    return Idempotency(key, request.url.path)


IdempotencyKey = Annotated[Idempotency, Depends(idempotency_key)]
