"""The public register (offentlighetsprincipen): the diarium and the active partnerships, for anyone without login.

Contract (the one rule for the API's JSON and CSV and the web page /offentligt):
- Diary entries of submitted cases only (a draft is the organisation's own, not yet received). Internal entries never
  appear: the organisation does not see that they exist (service.diarium.service.shown), and the register is open to
  it as to anyone, so it may not learn more here than on its own case.
- A confidential entry shows only that it exists: its reference, its date and "Sekretess enligt <OSL reference>";
  nothing of its content (no description, handlingstyp, direction, counterpart, case title). The redaction is done
  here, on the row, before any shape is built: no caller can show more.
- Active partnerships are cases whose agreement is in force (the follow-up stage): organisation, title, period and
  amount (service.agreements.amounts, the one amount rule), department.
- Lists are cursor-paginated (newest entry first; partnerships by diarienummer), at most PAGE_MAX per page
  (CSV_MAX per CSV); callers rate-limit per client address (service.auth.ratelimit.get_public_limiter).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from service.agreements.amounts import amount_of
from service.agreements.models import Agreement
from service.cases.models import Case
from service.cases.stages import Stage
from service.departments.models import Department
from service.diarium.models import DiaryEntry, Direction
from service.errors import ValidationFailed
from service.labels import DIARY_DIRECTIONS
from service.organisations.models import Organisation
from service.schemas import MAX_ID
from service.spreadsheet import safe_cell

PAGE_DEFAULT = 50
PAGE_MAX = 100
CSV_MAX = 1000
CSV_TYPE = "text/csv; charset=utf-8"


class PublicDiaryEntry(BaseModel):
    """A diary entry as the public sees it; a confidential one carries only reference, date and the secrecy marker."""

    reference: str = Field(description="`<diarienummer>-<löpnummer>`, e.g. `SOC 2026/0003-4`")
    diarienummer: str
    entry_date: date
    confidential: bool
    secrecy: str | None = Field(description="`Sekretess enligt OSL …` for a confidential entry, else null")
    direction: Direction | None = None
    document_type: str | None = None
    description: str | None = None
    counterpart: str | None = None
    case_title: str | None = None
    department: str | None = None


class PublicPartnership(BaseModel):
    """An active partnership (its agreement in force)."""

    diarienummer: str
    title: str
    organisation: str
    department: str
    period_start: date | None
    period_end: date | None
    amount_sek: int = Field(description="The agreement's funding (SEK)")


def secrecy_marker(osl_reference: str | None) -> str:
    """'Sekretess enligt OSL 21 kap. 1 §' (the reference as registered, OSL named once)."""
    ref = (osl_reference or "").strip()
    if not ref:
        return "Sekretess enligt OSL"
    return f"Sekretess enligt {ref}" if "osl" in ref.lower() or "offentlighets" in ref.lower() else f"Sekretess enligt OSL {ref}"


def _encode(value: Any, ident: int) -> str:  # noqa: ANN401
    return base64.urlsafe_b64encode(json.dumps([value, ident]).encode()).decode()


def _decode(cursor: str, kind: type) -> tuple[Any, int]:
    """A cursor of this list (a date or a diarienummer, and an id); anything else is a 422."""
    try:
        value, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident <= MAX_ID or not isinstance(value, str) or len(value) > 40:
            raise ValueError
        return (date.fromisoformat(value) if kind is date else value), ident
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed("Ogiltig cursor / invalid cursor", errors=[{"field": "cursor", "message": "invalid"}]) from exc


def _check_period(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed(errors=[{"field": "to", "message": "Slutdatum före startdatum / 'to' is before 'from'"}])


def _diary_query(date_from: date | None, date_to: date | None) -> Select:
    stmt = (select(DiaryEntry, Case.diarienummer, Case.title, Department.name)
            .join(Case, Case.id == DiaryEntry.case_id).join(Department, Department.id == Case.department_id)
            .where(Case.diarienummer.is_not(None), DiaryEntry.internal.is_(False)))
    if date_from is not None:
        stmt = stmt.where(DiaryEntry.entry_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(DiaryEntry.entry_date <= date_to)
    return stmt


def _public_entry(entry: DiaryEntry, diarienummer: str, title: str, department: str) -> PublicDiaryEntry:
    reference = f"{diarienummer}-{entry.number}"
    if entry.confidential:
        return PublicDiaryEntry(reference=reference, diarienummer=diarienummer, entry_date=entry.entry_date, confidential=True,
                                secrecy=secrecy_marker(entry.osl_reference))
    return PublicDiaryEntry(reference=reference, diarienummer=diarienummer, entry_date=entry.entry_date, confidential=False,
                            secrecy=None, direction=Direction(entry.direction), document_type=entry.document_type,
                            description=entry.description, counterpart=entry.counterpart, case_title=title, department=department)


def diary_page(session: Session, *, date_from: date | None = None, date_to: date | None = None, cursor: str | None = None,
               limit: int = PAGE_DEFAULT) -> tuple[list[PublicDiaryEntry], str | None]:
    """One page of the public diarium, newest first, and the cursor of the next page (None at the end)."""
    _check_period(date_from, date_to)
    stmt = _diary_query(date_from, date_to)
    if cursor:
        day, ident = _decode(cursor, date)
        stmt = stmt.where(or_(DiaryEntry.entry_date < day, and_(DiaryEntry.entry_date == day, DiaryEntry.id < ident)))
    rows = session.execute(stmt.order_by(DiaryEntry.entry_date.desc(), DiaryEntry.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    after = _encode(rows[-1][0].entry_date.isoformat(), rows[-1][0].id) if more else None
    return [_public_entry(e, dnr, title, dep) for e, dnr, title, dep in rows], after


def partnerships_page(session: Session, *, cursor: str | None = None,
                      limit: int = PAGE_DEFAULT) -> tuple[list[PublicPartnership], str | None]:
    """One page of the active partnerships by diarienummer, and the cursor of the next page."""
    stmt = (select(Case, Agreement, Organisation.name, Department.name)
            .join(Organisation, Organisation.id == Case.organisation_id).join(Department, Department.id == Case.department_id)
            .outerjoin(Agreement, Agreement.case_id == Case.id)
            .where(Case.stage == Stage.FOLLOW_UP, Case.diarienummer.is_not(None)))
    if cursor:
        dnr, ident = _decode(cursor, str)
        stmt = stmt.where(or_(Case.diarienummer > dnr, and_(Case.diarienummer == dnr, Case.id > ident)))
    rows = session.execute(stmt.order_by(Case.diarienummer, Case.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    after = _encode(rows[-1][0].diarienummer, rows[-1][0].id) if more else None
    out = [PublicPartnership(diarienummer=c.diarienummer, title=c.title, organisation=org, department=dep,
                             period_start=(a.period_start if a and a.period_start else c.period_start),
                             period_end=(a.period_end if a and a.period_end else c.period_end), amount_sek=amount_of(c, a))
           for c, a, org, dep in rows]
    return out, after


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow([safe_cell(v) if isinstance(v, str) else ("" if v is None else v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def diary_csv(items: list[PublicDiaryEntry]) -> bytes:
    """The public diarium as CSV (semicolons, UTF-8 with BOM); a confidential entry's content columns stay empty."""
    return _csv(["Diarienummer", "Datum", "Riktning", "Handlingstyp", "Beskrivning", "Avsändare/mottagare", "Ärende", "Förvaltning",
                 "Sekretess"],
                [[e.reference, e.entry_date.isoformat(), DIARY_DIRECTIONS.get(e.direction.value, "") if e.direction else "",
                  e.document_type, e.description, e.counterpart, e.case_title, e.department, e.secrecy or ""] for e in items])


def partnerships_csv(items: list[PublicPartnership]) -> bytes:
    """The active partnerships as CSV (semicolons, UTF-8 with BOM)."""
    return _csv(["Diarienummer", "Partnerskap", "Organisation", "Förvaltning", "Från och med", "Till och med", "Belopp (kr)"],
                [[p.diarienummer, p.title, p.organisation, p.department, p.period_start.isoformat() if p.period_start else "",
                  p.period_end.isoformat() if p.period_end else "", p.amount_sek] for p in items])
