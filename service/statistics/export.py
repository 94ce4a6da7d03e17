"""The statistics as CSV and Excel (xlsx): the same rows in both, from the one Statistics object.

CSV: semicolon-separated, UTF-8 with BOM and decimal comma, as Swedish Excel expects (like the case list's CSV).
Columns: Avsnitt, Mått, År, Kategori, Värde. The xlsx has the same rows on its first sheet (numbers as numbers), and
the partnerships per year and stage and the funding per year as tables of their own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from service.cases.stages import Stage
from service.labels import STAGES
from service.spreadsheet import safe_cell
from service.statistics.schemas import Duration, Statistics

HEADER = ("Avsnitt", "Mått", "År", "Kategori", "Värde")
Row = tuple[str, str, int | str, str, int | float | str | None]
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows(s: Statistics) -> Iterator[Row]:
    """Every figure of the statistics as one row (the selection first)."""
    every = s.year if s.year is not None else "Alla år"
    yield ("Urval", "Förvaltning", every, s.scope_label, None)
    for c in s.partnerships:
        yield ("Partnerskap per skede och år", "Antal partnerskap", c.year, c.label, c.count)
    for y in s.partnerships_per_year:
        yield ("Partnerskap per år", "Antal partnerskap", y.year, "Alla skeden", y.count)
    yield ("Partnerskap per år", "Antal partnerskap", every, "Totalt", s.partnerships_total)
    for f in s.funding:
        yield ("Finansiering per år", "Beslutat belopp (kr)", f.year, "Avtal som trätt i kraft", f.decided_sek)
        yield ("Finansiering per år", "Antal avtal", f.year, "Avtal som trätt i kraft", f.decided_agreements)
        yield ("Finansiering per år", "Utbetalt belopp (kr)", f.year, "Utbetalningar enligt avtal", f.paid_sek)
        yield ("Finansiering per år", "Antal utbetalningar", f.year, "Utbetalningar enligt avtal", f.paid_instalments)
    yield ("Finansiering per år", "Beslutat belopp (kr)", every, "Totalt", s.funding_decided_total_sek)
    yield ("Finansiering per år", "Utbetalt belopp (kr)", every, "Totalt", s.funding_paid_total_sek)
    yield from _durations("Arbetsdagar per skede", "skeden", s.stage_durations, every)
    yield from _durations("Arbetsdagar per granskning", "granskningar", s.review_durations, every)
    for o in s.overdue_deadlines:
        yield ("Försenat", "Försenade frister", every, o.label, o.count)
    yield ("Försenat", "Försenade frister", every, "Totalt", s.overdue_deadlines_total)
    yield ("Försenat", "Försenade beslut i granskning", every, "Totalt", s.overdue_reviews)
    yield ("Försenat", "Försenade ärenden", every, "Totalt", s.overdue_cases)
    for y in s.organisations_per_year:
        yield ("Organisationer", "Antal organisationer", y.year, "Med partnerskap", y.count)
    yield ("Organisationer", "Antal organisationer", every, "Totalt", s.organisations)


def _durations(section: str, what: str, items: list[Duration], every: int | str) -> Iterator[Row]:
    for d in items:
        yield (section, f"Antal avslutade {what}", every, d.label, d.count)
        yield (section, "Medelvärde (arbetsdagar)", every, d.label, d.mean_working_days)
        yield (section, "Median (arbetsdagar)", every, d.label, d.median_working_days)


def _csv_value(value: int | float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return safe_cell(value) if isinstance(value, str) else str(value)


def to_csv(s: Statistics) -> bytes:
    """The statistics as CSV (semicolons, BOM, decimal comma)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(HEADER)
    for r in rows(s):
        w.writerow([_csv_value(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx_value(value: int | float | str | None) -> int | float | str | None:
    return safe_cell(value) if isinstance(value, str) else value


def _sheet(wb: Workbook, title: str, header: list[str], body: list[list[int | float | str | None]], first: bool = False) -> None:
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in body:
        ws.append([_xlsx_value(v) for v in r])
    ws.freeze_panes = "A2"
    for n, name in enumerate(header, start=1):
        width = max([len(str(name)), *(len(str(r[n - 1])) for r in body if r[n - 1] is not None)], default=8)
        ws.column_dimensions[get_column_letter(n)].width = min(max(width + 2, 8), 60)


def to_xlsx(s: Statistics) -> bytes:
    """The statistics as an Excel workbook."""
    wb = Workbook()
    _sheet(wb, "Statistik", list(HEADER), [list(r) for r in rows(s)], first=True)
    stages = [st for st in Stage if st != Stage.DRAFT]
    cells = {(c.year, c.stage): c.count for c in s.partnerships}
    per_year = {y.year: y.count for y in s.partnerships_per_year}
    _sheet(wb, "Per skede och år", ["År", *(STAGES[st] for st in stages), "Totalt"],
           [[y, *(cells.get((y, st.value), 0) for st in stages), per_year[y]] for y in sorted(per_year)])
    _sheet(wb, "Finansiering", ["År", "Beslutat belopp (kr)", "Antal avtal", "Utbetalt belopp (kr)", "Antal utbetalningar"],
           [[f.year, f.decided_sek, f.decided_agreements, f.paid_sek, f.paid_instalments] for f in s.funding])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def filename(s: Statistics, ext: str) -> str:
    """A download name saying the selection, e.g. iop-statistik-kommunen-2026.csv (ASCII only)."""
    who = f"forvaltning-{s.department_id}" if s.department_id is not None else "kommunen"
    return f"iop-statistik-{who}-{s.year if s.year is not None else 'alla-ar'}.{ext}"
