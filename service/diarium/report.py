"""The diarium report of a period for registrars and officers, as CSV or as a PDF/A.

Contract: the entries are those the user's diarium search shows (service.diarium.service.period_entries: registrars
every case, officers their department's), confidential ones included with their sekretess marking and OSL reference
(the report is the administration's; it says on its face that it may not be handed out without a secrecy review).
Both formats come from the same rows. The PDF is the docxtpl template templates/rapporter/diarierapport.docx rendered
and converted to PDF/A-2b by LibreOffice (service.documents.service.docx_to_pdfa); nothing is stored.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import ClassVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Role, User
from service.config import Settings
from service.departments.models import Department
from service.diarium import service
from service.documents.contexts import Authority
from service.documents.rendering import DEFAULT_TEMPLATES_DIR, render
from service.documents.service import docx_to_pdfa
from service.labels import DIARY_DIRECTIONS
from service.spreadsheet import safe_cell

REPORT_TEMPLATES = DEFAULT_TEMPLATES_DIR / "rapporter"
CSV_TYPE = "text/csv; charset=utf-8"
HEADER = ["Diarienummer", "Datum", "Riktning", "Handlingstyp", "Beskrivning", "Avsändare/mottagare", "Ärende", "Sekretess",
          "OSL-hänvisning"]


class ReportRow(BaseModel):
    """One entry as the report prints it."""

    reference: str
    entry_date: date
    direction: str
    document_type: str
    description: str
    counterpart: str
    case_title: str
    confidential: bool
    osl_reference: str


class DiaryReportContext(BaseModel):
    """The report's template context (templates/rapporter/diarierapport.docx)."""

    template_name: ClassVar[str] = "diarierapport.docx"

    authority: Authority
    scope: str
    period_from: date
    period_to: date
    document_date: date
    drawn_up_by: str
    confidential_count: int
    entries: list[ReportRow]


def rows(session: Session, user: User, date_from: date | None, date_to: date | None) -> list[ReportRow]:
    """The period's entries the user sees, oldest first (a 422 for a missing or reversed period, or too many entries)."""
    return [ReportRow(reference=service.reference(case, e), entry_date=e.entry_date, direction=DIARY_DIRECTIONS.get(e.direction, e.direction),
                      document_type=e.document_type, description=e.description, counterpart=e.counterpart, case_title=case.title,
                      confidential=e.confidential, osl_reference=e.osl_reference or "")
            for e, case in service.period_entries(session, user, date_from, date_to)]


def to_csv(report: list[ReportRow]) -> bytes:
    """The report as CSV (semicolons, UTF-8 with BOM, as Swedish Excel expects)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(HEADER)
    for r in report:
        w.writerow([safe_cell(r.reference), r.entry_date.isoformat(), r.direction, safe_cell(r.document_type), safe_cell(r.description),
                    safe_cell(r.counterpart), safe_cell(r.case_title), "Sekretess" if r.confidential else "", safe_cell(r.osl_reference)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def context(session: Session, user: User, report: list[ReportRow], date_from: date, date_to: date) -> DiaryReportContext:
    """What the template prints: the municipality, whose diarium (all departments or the officer's), the period, the rows."""
    own = session.get(Department, user.department_id) if user.department_id else None
    first = own or session.scalar(select(Department).order_by(Department.id).limit(1))
    municipality = first.municipality if first else "Kommunen"
    scope = own.name if own is not None and user.role == Role.OFFICER else "Alla förvaltningar"
    return DiaryReportContext(authority=Authority(municipality=municipality, department=scope), scope=scope, period_from=date_from,
                              period_to=date_to, document_date=service.today(), drawn_up_by=user.full_name,
                              confidential_count=sum(r.confidential for r in report), entries=report)


def to_pdf(ctx: DiaryReportContext, settings: Settings) -> bytes:
    """The report as PDF/A-2b: the Swedish template rendered, then LibreOffice (503 when it is missing or busy)."""
    rendered = render(ctx, templates_dir=REPORT_TEMPLATES)
    return docx_to_pdfa(rendered.content, settings, f"diary report {ctx.period_from}–{ctx.period_to}")


def filename(date_from: date, date_to: date, ext: str) -> str:
    """diarierapport-2026-01-01-2026-03-31.csv"""
    return f"diarierapport-{date_from.isoformat()}-{date_to.isoformat()}.{ext}"
