"""Statistics API: JSON, CSV and Excel of the same figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from service.deps import CurrentUser, DbSession
from service.statistics import export, service
from service.statistics.schemas import Statistics

router = APIRouter(tags=["statistics"])

DepartmentParam = Annotated[str | None, Query(max_length=20, description="A department id, or 'all' for the whole municipality; "
                                                                         "absent: officers' and approvers' own department, others the whole municipality")]
YearParam = Annotated[int | None, Query(ge=service.YEAR_MIN, le=service.YEAR_MAX, description="Calendar year (Europe/Stockholm); absent: every year")]


def _compute(session: DbSession, user: CurrentUser, department_id: str | None, year: int | None) -> Statistics:
    return service.compute(session, user, service.parse_department(department_id), year)


def _file(content: bytes, media_type: str, name: str) -> Response:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/statistics", response_model=Statistics)
def statistics(session: DbSession, user: CurrentUser, department_id: DepartmentParam = None, year: YearParam = None) -> Statistics:
    """Partnerships per stage and year, funding decided and paid, working days per stage and review, overdue, organisations."""
    return _compute(session, user, department_id, year)


@router.get("/statistics.csv", response_class=Response,
            responses={200: {"description": "CSV (semikolon, UTF-8 med BOM) / CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}})
def statistics_csv(session: DbSession, user: CurrentUser, department_id: DepartmentParam = None, year: YearParam = None) -> Response:
    """The same statistics as CSV: one row per figure (Avsnitt; Mått; År; Kategori; Värde)."""
    s = _compute(session, user, department_id, year)
    return _file(export.to_csv(s), export.CSV_TYPE, export.filename(s, "csv"))


@router.get("/statistics.xlsx", response_class=Response,
            responses={200: {"description": "Excel-arbetsbok / Excel workbook",
                             "content": {export.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
def statistics_xlsx(session: DbSession, user: CurrentUser, department_id: DepartmentParam = None, year: YearParam = None) -> Response:
    """The same statistics as an Excel workbook (the CSV's rows, and tables per stage and year and of funding)."""
    s = _compute(session, user, department_id, year)
    return _file(export.to_xlsx(s), export.XLSX_TYPE, export.filename(s, "xlsx"))
