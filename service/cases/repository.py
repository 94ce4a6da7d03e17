"""Case queries: filtered, sorted, cursor-paginated lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from service.auth.models import User
from service.auth.security import TokenSubject
from service.cases import listing
from service.cases.access import can_see
from service.cases.models import Case
from service.cases.schemas import CaseOut, CaseSummary, DepartmentRef, OfficerRef, OrganisationRef
from service.departments.models import Department
from service.deps import Principal
from service.errors import NotFound
from service.organisations.models import Organisation
from service.reads import Query

# The list's filter, sort and cursor live in service.cases.listing (one query for the API and the web).
CaseFilter = listing.CaseFilter
SORTS = listing.SORTS
encode_cursor, decode_cursor = listing.encode_cursor, listing.decode_cursor


def list_cases(session: Session, user: User, f: CaseFilter, *, sort: str, cursor: str | None, limit: int) -> tuple[list[listing.Listed], str | None]:
    """One page of the cases the user may see (listing.page)."""
    return listing.page(session, user, f, sort=sort, cursor=cursor, limit=limit)


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
    """Core statement of a list page for the read path, and its sort field (the same listing.query as list_cases)."""
    lq = listing.query(user, f, sort=sort, cursor=cursor)
    stmt = (
        select(*SUMMARY_COLUMNS, *listing.extra_columns(user), lq.sort_key)
        .join(Organisation, Organisation.id == Case.organisation_id)
        .join(Department, Department.id == Case.department_id)
        .outerjoin(_officer, _officer.id == Case.officer_id)
        .where(*lq.where).order_by(*lq.order).limit(limit + 1)
    )
    return stmt, lq.field


def summaries_page(rows: list[Mapping[str, Any]], limit: int, field: str) -> tuple[list[CaseSummary], str | None]:
    """CaseSummary items and the next cursor from the rows of summaries_statement()."""
    rows, next_cursor = listing.next_cursor(rows, limit, lambda row, key: row[key])
    return [CaseSummary.model_validate(_with_refs(dict(row), row)) for row in rows], next_cursor


# CaseSummary's fields in order, the nested references by their own fields, and the defaults of the optional ones.
_REFS = {"organisation": tuple(OrganisationRef.model_fields), "department": tuple(DepartmentRef.model_fields),
         "officer": tuple(OfficerRef.model_fields)}
_SUMMARY_FIELDS = tuple(
    (name, tuple((k, f"{name}_{k}") for k in _REFS[name]) if name in _REFS else None, f"{name}_id", info.is_required(), info.default)
    for name, info in CaseSummary.model_fields.items()
)


def summaries_json(rows: list[Mapping[str, Any]], limit: int, field: str) -> bytes:
    """The JSON of Page[CaseSummary] from the rows of summaries_statement(), without a model per row.

    The list is the busiest read and its rows are our own columns of the model's types, so validating each row into
    a model only to dump it again cost about as much as the query (issue 18). The document is the model's: the same
    fields in the same order, datetimes in UTC with "Z" (tests/cases/test_case_listing.py compares both on real rows).
    """
    rows, next_cursor = listing.next_cursor(rows, limit, lambda row, key: row[key])
    items = []
    for row in rows:
        item: dict[str, Any] = {}
        for name, ref, ref_id, required, default in _SUMMARY_FIELDS:
            if ref is None:
                item[name] = row[name] if required else row.get(name, default)
            else:
                item[name] = None if row[ref_id] is None else {k: row[column] for k, column in ref}
        items.append(item)
    return orjson.dumps({"items": items, "next_cursor": next_cursor}, option=orjson.OPT_UTC_Z)


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
