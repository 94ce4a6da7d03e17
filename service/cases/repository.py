"""Case queries: filtered, sorted, cursor-paginated lists."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select, tuple_
from sqlalchemy.orm import Session

from service.auth.models import User
from service.cases.access import visible
from service.cases.models import Case
from service.cases.stages import Stage
from service.db import utcnow
from service.errors import ValidationFailed
from service.reviews.models import Review, ReviewStatus
from service.schemas import CONTROL_CHARS, MAX_ID

SORTS = {
    "created_at": Case.created_at,
    "updated_at": Case.updated_at,
    "title": Case.title,
    "requested_amount_sek": Case.requested_amount_sek,
}


@dataclass
class CaseFilter:
    """List filters from the query string."""

    stage: list[Stage] | None = None
    department_id: int | None = None
    organisation_id: int | None = None
    officer_id: int | None = None
    overdue: bool | None = None
    q: str | None = None


def encode_cursor(value: Any, ident: int) -> str:
    """Opaque cursor from the last row's sort value and id."""
    if isinstance(value, datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, ident]).encode()).decode()


def decode_cursor(cursor: str, sort_field: str) -> tuple[Any, int]:
    """Inverse of encode_cursor; a malformed cursor is a 422."""
    try:
        value, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if sort_field in ("created_at", "updated_at"):
            value = datetime.fromisoformat(value)
        elif sort_field == "requested_amount_sek":
            value = int(value)
        elif not isinstance(value, str):
            raise ValueError
        ident = int(ident)
        # A cursor is ours only if it could have been: values outside the columns' ranges would fail in the driver (500).
        if not 0 < ident <= MAX_ID or (isinstance(value, int) and not 0 <= value <= 2**63 - 1) or (
                isinstance(value, str) and CONTROL_CHARS.search(value)):
            raise ValueError
        return value, ident
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValidationFailed("Ogiltig cursor / Invalid cursor", errors=[{"field": "cursor", "message": "invalid"}]) from exc


def overdue_condition():  # noqa: ANN201
    """A pending review past its due time (deadlines add their own condition)."""
    return exists().where(Review.case_id == Case.id, Review.status == ReviewStatus.PENDING, Review.due_at < utcnow())


def list_cases(session: Session, user: User, f: CaseFilter, *, sort: str, cursor: str | None, limit: int) -> tuple[list[Case], str | None]:
    """One page of the cases the user may see."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in SORTS:
        raise ValidationFailed(errors=[{"field": "sort", "message": f"Sortering måste vara en av {sorted(SORTS)} / allowed: {sorted(SORTS)}"}])
    col = SORTS[field]
    stmt = select(Case).where(visible(user))
    if f.stage:
        stmt = stmt.where(Case.stage.in_(f.stage))
    if f.department_id is not None:
        stmt = stmt.where(Case.department_id == f.department_id)
    if f.organisation_id is not None:
        stmt = stmt.where(Case.organisation_id == f.organisation_id)
    if f.officer_id is not None:
        stmt = stmt.where(Case.officer_id == f.officer_id)
    if f.overdue is not None:
        stmt = stmt.where(overdue_condition() if f.overdue else ~overdue_condition())
    if f.q:
        like = f"%{f.q.strip()}%"
        stmt = stmt.where(or_(Case.title.ilike(like), Case.diarienummer.ilike(like)))
    if cursor:
        value, ident = decode_cursor(cursor, field)
        key, after = tuple_(col, Case.id), tuple_(value, ident)
        stmt = stmt.where(key < after if descending else key > after)
    order = (col.desc(), Case.id.desc()) if descending else (col.asc(), Case.id.asc())
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, field), last.id)
    return rows, next_cursor
