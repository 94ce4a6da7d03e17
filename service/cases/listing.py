"""Case lists: the one filter, search, sort and cursor of the API's GET /cases and the web's /arenden (and its CSV).

Every list goes through `query()`: its first condition is the visibility rule (service.cases.access.visible), overdue
is service.dashboard.overdue's definition, and the next deadline counts only the deadlines the user may see
(access.deadlines_shown). The ORM page (`page()`, the web) and the read path's Core statement
(service.cases.repository.summaries_statement, the API) are built from the same query.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, bindparam, case, func, or_, select, tuple_
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.cases.access import deadlines_shown, visible
from service.cases.models import Case
from service.cases.stages import Stage
from service.config import get_settings
from service.dashboard.overdue import overdue_condition
from service.db import UTCDateTime
from service.deadlines.models import Deadline, DeadlineStatus
from service.departments.models import Department
from service.errors import ValidationFailed
from service.organisations.models import Organisation
from service.schemas import CONTROL_CHARS, MAX_ID

if TYPE_CHECKING:
    from service.deps import Principal

TEXT_MAX = 200  # longest search text (the API declares the same bound)
YEAR_MIN, YEAR_MAX = 2000, 2100  # submission years a filter may name
# A deadline still ahead of the case (or passed without being met); suspended ones stand still and met/cancelled are history.
NEXT_DUE = (DeadlineStatus.OPEN, DeadlineStatus.MISSED)
# Cases without a deadline sort after those with one, in both directions.
_NO_DEADLINE_ASC, _NO_DEADLINE_DESC = datetime(9999, 12, 31, tzinfo=UTC), datetime(1900, 1, 1, tzinfo=UTC)
# The stages in the order a case goes through them (sorting by stage follows the process, not the alphabet).
STAGE_ORDER = {stage.value: i for i, stage in enumerate(Stage)}


@dataclass
class CaseFilter:
    """List filters (all optional; given ones narrow the list together)."""

    stage: list[Stage] | None = None
    department_id: int | None = None
    organisation_id: int | None = None
    officer_id: int | None = None
    overdue: bool | None = None
    q: str | None = None  # part of the title or diarienummer
    organisation_q: str | None = None  # part of the organisation's name or organisationsnummer (with or without the dash)
    mine: bool | None = None  # true: assigned to the asking user; false: to someone else or no one
    unassigned: bool | None = None  # true: no officer yet; false: an officer assigned
    submitted_year: int | None = None  # the year of submission (the diarienummer's year), in the municipality's time zone


def _org_name() -> ColumnElement[str]:
    return select(Organisation.name).where(Organisation.id == Case.organisation_id).correlate(Case).scalar_subquery()


def next_deadline(user: User | Principal) -> ColumnElement[datetime]:
    """The case's earliest open or missed deadline among those the user sees (NULL when there is none)."""
    return (select(func.min(Deadline.due_at)).where(Deadline.case_id == Case.id, Deadline.status.in_(NEXT_DUE), deadlines_shown(user))
            .correlate(Case).scalar_subquery())


@dataclass(frozen=True)
class Sort:
    """A sort key: its expression (for the user, in a direction) and how its cursor value is read back."""

    expression: Callable[[User | Principal, bool], ColumnElement[Any]]
    kind: type


SORTS: dict[str, Sort] = {
    "created_at": Sort(lambda user, desc: Case.created_at, datetime),
    "updated_at": Sort(lambda user, desc: Case.updated_at, datetime),
    "title": Sort(lambda user, desc: Case.title, str),
    "requested_amount_sek": Sort(lambda user, desc: Case.requested_amount_sek, int),
    # Drafts have no diarienummer yet: they sort as the empty string, first going up.
    "diarienummer": Sort(lambda user, desc: func.coalesce(Case.diarienummer, ""), str),
    "organisation": Sort(lambda user, desc: _org_name(), str),
    "stage": Sort(lambda user, desc: case(STAGE_ORDER, value=Case.stage, else_=len(STAGE_ORDER)), int),
    "next_deadline": Sort(lambda user, desc: func.coalesce(
        next_deadline(user), bindparam(None, _NO_DEADLINE_DESC if desc else _NO_DEADLINE_ASC, type_=UTCDateTime())), datetime),
}
DEFAULT_SORT = "-created_at"


def parse_sort(sort: str) -> tuple[str, bool]:
    """(key, descending) of a sort value such as "title" or "-updated_at"; anything else is a 422."""
    descending = sort.startswith("-")
    key = sort[1:] if descending else sort
    if key not in SORTS:
        raise ValidationFailed("Okänd sortering / unknown sort", errors=[{
            "field": "sort", "message": f"Sorteringen måste vara en av {', '.join(SORTS)}, med - före för fallande ordning"
                                        f" / allowed: {', '.join(SORTS)}, prefixed with - for descending"}])
    return key, descending


def check(f: CaseFilter) -> None:
    """422 for filter values no list can mean (the API's parameter types say the same; the web's forms come here raw)."""
    errors: list[dict[str, str]] = []
    for name in ("q", "organisation_q"):
        value = getattr(f, name)
        if value is not None and (len(value) > TEXT_MAX or CONTROL_CHARS.search(value)):
            errors.append({"field": name, "message": f"Söktexten får vara högst {TEXT_MAX} tecken, utan styrtecken"
                                                     f" / at most {TEXT_MAX} characters, no control characters"})
    if f.submitted_year is not None and not YEAR_MIN <= f.submitted_year <= YEAR_MAX:
        errors.append({"field": "submitted_year", "message": f"Året måste vara mellan {YEAR_MIN} och {YEAR_MAX}"
                                                             f" / year must be between {YEAR_MIN} and {YEAR_MAX}"})
    for name in ("department_id", "organisation_id", "officer_id"):
        value = getattr(f, name)
        if value is not None and not 0 < value <= MAX_ID:
            errors.append({"field": name, "message": "Okänt id / unknown id"})
    if errors:
        raise ValidationFailed("Ogiltigt filter / invalid filter", errors=errors)


def _organisation_matches(text: str) -> ColumnElement[bool]:
    """The case's organisation has the text in its name or organisationsnummer, ignoring case (and the orgnr's dash)."""
    matches = [Organisation.name.icontains(text, autoescape=True), Organisation.orgnr.icontains(text, autoescape=True)]
    digits = text.replace("-", "").replace(" ", "")
    if digits.isascii() and digits.isdigit():
        matches.append(func.replace(Organisation.orgnr, "-", "").contains(digits, autoescape=True))
    return Case.organisation_id.in_(select(Organisation.id).where(or_(*matches)).correlate(None))


def conditions(user: User | Principal, f: CaseFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions of a filtered list: visibility first, then each given filter."""
    check(f)
    where: list[ColumnElement[bool]] = [visible(user)]
    if f.stage:
        where.append(Case.stage.in_(f.stage))
    if f.department_id is not None:
        where.append(Case.department_id == f.department_id)
    if f.organisation_id is not None:
        where.append(Case.organisation_id == f.organisation_id)
    if f.officer_id is not None:
        where.append(Case.officer_id == f.officer_id)
    if f.mine is not None:
        where.append(Case.officer_id == user.id if f.mine else or_(Case.officer_id.is_(None), Case.officer_id != user.id))
    if f.unassigned is not None:
        where.append(Case.officer_id.is_(None) if f.unassigned else Case.officer_id.is_not(None))
    if f.overdue is not None:
        where.append(overdue_condition() if f.overdue else ~overdue_condition())
    if f.q and f.q.strip():
        # Plain ILIKE on the two columns: PostgreSQL answers it from the trigram indexes of migration 0004.
        like = f"%{f.q.strip()}%"
        where.append(or_(Case.title.ilike(like), Case.diarienummer.ilike(like)))
    if f.organisation_q and f.organisation_q.strip():
        where.append(_organisation_matches(f.organisation_q.strip()))
    if f.submitted_year is not None:
        tz = ZoneInfo(get_settings().timezone)
        where.append(Case.submitted_at >= datetime(f.submitted_year, 1, 1, tzinfo=tz))
        where.append(Case.submitted_at < datetime(f.submitted_year + 1, 1, 1, tzinfo=tz))
    return where


@dataclass(frozen=True)
class ListQuery:
    """A list page's conditions, order, sort column (labelled sort_key, read back for the next cursor) and sort field."""

    where: list[ColumnElement[bool]]
    order: tuple[ColumnElement[Any], ...]
    sort_key: ColumnElement[Any]
    field: str


def query(user: User | Principal, f: CaseFilter, *, sort: str = DEFAULT_SORT, cursor: str | None = None) -> ListQuery:
    """The one list query: visible cases, filtered, in a stable order (ties broken by id), after the cursor."""
    field, descending = parse_sort(sort)
    col = SORTS[field].expression(user, descending)
    where = conditions(user, f)
    if cursor:
        value, ident = decode_cursor(cursor, field)
        key, after = tuple_(col, Case.id), tuple_(bindparam(None, value, type_=col.type), ident)
        where.append(key < after if descending else key > after)
    order = (col.desc(), Case.id.desc()) if descending else (col.asc(), Case.id.asc())
    return ListQuery(where, order, col.label("sort_key"), field)


def extra_columns(user: User | Principal) -> tuple[ColumnElement[Any], ...]:
    """What a list row carries besides the case: its next deadline and whether it is overdue."""
    return next_deadline(user).label("next_deadline_at"), overdue_condition().label("overdue")


def encode_cursor(value: Any, ident: int) -> str:
    """Opaque cursor from the last row's sort value and id."""
    if isinstance(value, datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, ident]).encode()).decode()


def decode_cursor(cursor: str, sort_field: str) -> tuple[Any, int]:
    """Inverse of encode_cursor; a malformed cursor (or one of another sort) is a 422."""
    kind = SORTS[sort_field].kind
    try:
        value, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if kind is datetime:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError
        elif kind is int:
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError
        elif not isinstance(value, str):
            raise ValueError
        if not isinstance(ident, int) or isinstance(ident, bool):
            raise ValueError
        # A cursor is ours only if it could have been: values outside the columns' ranges would fail in the driver (500).
        if not 0 < ident <= MAX_ID or (isinstance(value, int) and not 0 <= value <= 2**63 - 1) or (
                isinstance(value, str) and (CONTROL_CHARS.search(value) or len(value) > 1000)):
            raise ValueError
        return value, ident
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed("Ogiltig cursor / Invalid cursor", errors=[{"field": "cursor", "message": "invalid"}]) from exc


def next_cursor(rows: list[Any], limit: int, value: Callable[[Any, str], Any]) -> tuple[list[Any], str | None]:
    """The page's rows (at most limit) and the cursor after them; rows were fetched with limit + 1 to know if more follow."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(value(rows[-1], "sort_key"), value(rows[-1], "id"))


@dataclass(frozen=True, slots=True)
class Listed:
    """A case in a list with its next deadline and overdue flag; reads through to the case (templates, CaseSummary)."""

    case: Case
    next_deadline_at: datetime | None
    overdue: bool

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        return getattr(self.case, name)


def page(session: Session, user: User, f: CaseFilter, *, sort: str = DEFAULT_SORT, cursor: str | None = None,
         limit: int = 25) -> tuple[list[Listed], str | None]:
    """One page of the cases the user may see, as the web lists them."""
    lq = query(user, f, sort=sort, cursor=cursor)
    stmt = select(Case, *extra_columns(user), lq.sort_key).where(*lq.where).order_by(*lq.order).limit(limit + 1)
    rows, cursor_after = next_cursor(list(session.execute(stmt).unique().all()), limit,
                                     lambda row, key: row.Case.id if key == "id" else getattr(row, key))
    return [Listed(row.Case, _aware(row.next_deadline_at), bool(row.overdue)) for row in rows], cursor_after


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate's datetime as an aware UTC datetime (SQLite may hand it back naive or as text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def officer_choices(session: Session, user: User) -> list[User]:
    """The officers a list may be filtered by: the department's own for its staff, every officer for a registrar."""
    stmt = select(User).where(User.role == Role.OFFICER).order_by(User.full_name, User.id)
    if user.role in (Role.OFFICER, Role.APPROVER):
        stmt = stmt.where(User.department_id == user.department_id)
    elif user.role != Role.REGISTRAR:
        return []
    return list(session.scalars(stmt))


def department_choices(session: Session, user: User) -> list[Department]:
    """The departments a list may be filtered by: only a registrar sees more than one department's cases."""
    return list(session.scalars(select(Department).order_by(Department.name))) if user.role == Role.REGISTRAR else []
