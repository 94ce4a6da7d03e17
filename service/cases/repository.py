"""Case queries: filtered, sorted, cursor-paginated lists."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from service.auth.models import User
from service.auth.security import TokenSubject
from service.cases.access import can_see, visible
from service.cases.models import Case
from service.cases.schemas import CaseOut, CaseSummary
from service.cases.stages import Stage
from service.dashboard.overdue import overdue_condition
from service.departments.models import Department
from service.deps import Principal
from service.errors import NotFound, ValidationFailed
from service.organisations.models import Organisation
from service.reads import Query
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


def _list_query(user: User | Principal, f: CaseFilter, sort: str, cursor: str | None) -> tuple[list[Any], tuple[Any, ...], str]:
    """WHERE conditions, ORDER BY and sort field of a list page (shared by the ORM and the read path)."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in SORTS:
        raise ValidationFailed(errors=[{"field": "sort", "message": f"Sortering måste vara en av {sorted(SORTS)} / allowed: {sorted(SORTS)}"}])
    col = SORTS[field]
    where: list[Any] = [visible(user)]
    if f.stage:
        where.append(Case.stage.in_(f.stage))
    if f.department_id is not None:
        where.append(Case.department_id == f.department_id)
    if f.organisation_id is not None:
        where.append(Case.organisation_id == f.organisation_id)
    if f.officer_id is not None:
        where.append(Case.officer_id == f.officer_id)
    if f.overdue is not None:
        where.append(overdue_condition() if f.overdue else ~overdue_condition())
    if f.q:
        like = f"%{f.q.strip()}%"
        where.append(or_(Case.title.ilike(like), Case.diarienummer.ilike(like)))
    if cursor:
        value, ident = decode_cursor(cursor, field)
        key, after = tuple_(col, Case.id), tuple_(value, ident)
        where.append(key < after if descending else key > after)
    order = (col.desc(), Case.id.desc()) if descending else (col.asc(), Case.id.asc())
    return where, order, field


def _page(rows: list[Any], limit: int, field: str, value: Callable[[Any, str], Any]) -> tuple[list[Any], str | None]:
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(value(rows[-1], field), value(rows[-1], "id"))


def list_cases(session: Session, user: User, f: CaseFilter, *, sort: str, cursor: str | None, limit: int) -> tuple[list[Case], str | None]:
    """One page of the cases the user may see."""
    where, order, field = _list_query(user, f, sort, cursor)
    rows = list(session.scalars(select(Case).where(*where).order_by(*order).limit(limit + 1)).unique())
    return _page(rows, limit, field, getattr)


_reader = aliased(User, name="reader")
_officer = aliased(User, name="officer")
# The joined names of a case as the read rows carry them (nested again by _with_refs).
_REF_COLUMNS = (
    Organisation.name.label("organisation_name"), Organisation.orgnr.label("organisation_orgnr"),
    Department.name.label("department_name"), Department.diarie_prefix.label("department_diarie_prefix"),
    _officer.full_name.label("officer_full_name"), _officer.email.label("officer_email"),
)
SUMMARY_COLUMNS = (
    Case.id, Case.diarienummer, Case.title, Case.stage, Case.organisation_id, Case.department_id, Case.officer_id,
    Case.requested_amount_sek, Case.open_for_changes, Case.version, Case.created_at, Case.updated_at, *_REF_COLUMNS,
)


def summaries_statement(user: Principal, f: CaseFilter, *, sort: str, cursor: str | None, limit: int) -> tuple[Select, str]:
    """Core statement of a list page for the read path, and its sort field (same conditions as list_cases)."""
    where, order, field = _list_query(user, f, sort, cursor)
    stmt = (
        select(*SUMMARY_COLUMNS)
        .join(Organisation, Organisation.id == Case.organisation_id)
        .join(Department, Department.id == Case.department_id)
        .outerjoin(_officer, _officer.id == Case.officer_id)
        .where(*where).order_by(*order).limit(limit + 1)
    )
    return stmt, field


def summaries_page(rows: list[Mapping[str, Any]], limit: int, field: str) -> tuple[list[CaseSummary], str | None]:
    """CaseSummary items and the next cursor from the rows of summaries_statement()."""
    rows, next_cursor = _page(rows, limit, field, lambda row, key: row[key])
    return [CaseSummary.model_validate(_with_refs(dict(row), row)) for row in rows], next_cursor


def _with_refs(data: dict[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """Nest the joined organisation, department and officer columns of a read row as the response models want."""
    data["organisation"] = {"id": row["organisation_id"], "name": row["organisation_name"], "orgnr": row["organisation_orgnr"]}
    data["department"] = {"id": row["department_id"], "name": row["department_name"], "diarie_prefix": row["department_diarie_prefix"]}
    data["officer"] = (
        {"id": row["officer_id"], "full_name": row["officer_full_name"], "email": row["officer_email"]} if row["officer_id"] else None
    )
    return data


# The asking user's columns, as Principal.from_row() reads them.
_READER_COLUMNS = tuple(
    getattr(_reader, key).label(f"reader_{key}") for key in ("id", "role", "is_active", "organisation_id", "department_id", "token_generation")
)

# The asking user alone, for reads that need the visibility rule before their own query (a list page).
READER_BY_ID = Query.of(select(*_READER_COLUMNS).where(_reader.id == bindparam("user_id", type_=Integer)))

# One round trip for GET /cases/{id}: the asking user (for the 401 and the visibility rule) and the case with its
# organisation, department and officer. The user is the driving row, so a missing case still answers who asked.
CASE_FOR_READER = Query.of(
    select(*_READER_COLUMNS, *Case.__table__.c, *_REF_COLUMNS)
    .select_from(_reader)
    .outerjoin(Case, Case.id == bindparam("case_id", type_=Integer))
    .outerjoin(Organisation, Organisation.id == Case.organisation_id)
    .outerjoin(Department, Department.id == Case.department_id)
    .outerjoin(_officer, _officer.id == Case.officer_id)
    .where(_reader.id == bindparam("user_id", type_=Integer))
)


@dataclass(frozen=True, slots=True)
class _CaseKeys:
    organisation_id: int
    department_id: int
    stage: str


def case_for_reader(row: Mapping[str, Any] | None, token: TokenSubject | None = None) -> CaseOut:
    """The case of a CASE_FOR_READER row as its reader may see it: 401 for a gone account or revoked token, 404 when not visible."""
    reader = Principal.from_row(row, token)
    if row["id"] is None or not can_see(reader, _CaseKeys(row["organisation_id"], row["department_id"], row["stage"])):
        raise NotFound("Ärendet finns inte / Case not found")
    return CaseOut.model_validate(_with_refs({c.key: row[c.key] for c in Case.__table__.c}, row))
