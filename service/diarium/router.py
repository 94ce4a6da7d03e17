"""Diarium endpoints: a case's diary, a registrar's correction, and the search across cases."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from service.cases.access import get_visible_case
from service.cases.router import IfMatch, parse_if_match
from service.deps import AppSettings, CurrentUser, DbSession
from service.diarium import report, service
from service.diarium.schemas import DiaryEntryOut, DiaryEntryPatch
from service.schemas import Id

router = APIRouter(tags=["diarium"])


@router.get("/cases/{case_id}/diary", response_model=list[DiaryEntryOut])
def case_diary(case_id: Id, session: DbSession, user: CurrentUser) -> list[DiaryEntryOut]:
    """The case's diary entries by löpnummer (the organisation sees neither confidential nor internal ones)."""
    case = get_visible_case(session, user, case_id)
    return [service.to_out(case, e) for e in service.list_for_case(session, user, case)]


@router.patch("/cases/{case_id}/diary/{entry_id}", response_model=DiaryEntryOut)
def correct_entry(case_id: Id, entry_id: Id, data: DiaryEntryPatch, session: DbSession, user: CurrentUser, settings: AppSettings,
                  response: Response, if_match: IfMatch = None) -> DiaryEntryOut:
    """A registrar corrects an entry (description, handlingstyp, sekretess and OSL reference, counterpart); If-Match required."""
    case = get_visible_case(session, user, case_id)
    entry = service.get_entry(session, case, entry_id)
    version = parse_if_match(if_match, required=False)  # required by the service, after the role check
    entry = service.correct(session, user, case, entry, data, version, settings)
    response.headers["ETag"] = f'"{entry.version}"'
    return service.to_out(case, entry)


@router.get("/diary", response_model=list[DiaryEntryOut])
def search_diary(session: DbSession, user: CurrentUser, q: Annotated[str | None, Query(max_length=200)] = None,
                 date_from: Annotated[date | None, Query(alias="from")] = None,
                 date_to: Annotated[date | None, Query(alias="to")] = None) -> list[DiaryEntryOut]:
    """Search the diarium (registrars: all cases; officers: their department's), newest first, at most 200 entries."""
    return [service.to_out(case, e) for e, case in service.search(session, user, q=q, date_from=date_from, date_to=date_to)]


@router.get("/diary/report", response_class=Response, responses={200: {
    "description": "Diarierapport som CSV (semikolon, UTF-8 med BOM) eller PDF/A / the diarium report as CSV or PDF/A",
    "content": {"text/csv": {"schema": {"type": "string"}}, "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
def diary_report(session: DbSession, user: CurrentUser, settings: AppSettings, date_from: Annotated[date | None, Query(alias="from")] = None,
                 date_to: Annotated[date | None, Query(alias="to")] = None,
                 format: Literal["csv", "pdf"] = "csv") -> Response:  # noqa: A002  (the query parameter's name)
    """Every diary entry of a period (registrars: all cases; officers: their department's), confidential ones with their
    OSL reference; `from` and `to` required; PDF/A through LibreOffice (503 without it)."""
    rows = report.rows(session, user, date_from, date_to)
    if format == "pdf":
        content, media_type = report.to_pdf(report.context(session, user, rows, date_from, date_to), settings), "application/pdf"
    else:
        content, media_type = report.to_csv(rows), report.CSV_TYPE
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{report.filename(date_from, date_to, format)}"'})
