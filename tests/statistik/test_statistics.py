"""Statistics: the numbers equal those computed from the rows the test made; API, CSV and xlsx agree; who may see what."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
from factories import auth
from helpers import problem
from sqlalchemy import func, select
from statistik_world import CAL, SE, build, expected

from service.cases.models import Case
from service.db import utcnow
from service.statistics import service
from service.statistics.schemas import Statistics

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=SE)


def _figures(s: Statistics) -> dict:
    """The same shape as statistik_world.expected(), read from the service's answer."""
    durations = {d.key: (d.count, d.mean_working_days, d.median_working_days) for d in s.stage_durations if d.count}
    reviews = {d.key: (d.count, d.mean_working_days, d.median_working_days) for d in s.review_durations if d.count and d.key != "all"}
    every = next(d for d in s.review_durations if d.key == "all")
    return {
        "cells": {(c.year, c.stage): c.count for c in s.partnerships}, "total": s.partnerships_total,
        "organisations": s.organisations, "organisations_per_year": {y.year: y.count for y in s.organisations_per_year},
        "decided": {f.year: f.decided_sek for f in s.funding if f.decided_agreements},
        "paid": {f.year: f.paid_sek for f in s.funding if f.paid_instalments},
        "paid_n": {f.year: f.paid_instalments for f in s.funding if f.paid_instalments},
        "stays": durations, "reviews": reviews, "all_reviews": (every.count, every.mean_working_days, every.median_working_days),
        "late_kinds": {o.kind: o.count for o in s.overdue_deadlines if o.count}, "late_reviews": s.overdue_reviews,
        "late_cases": s.overdue_cases,
    }


def test_the_calendar_counts_easter_as_the_expectations_assume() -> None:
    # The review over Easter 2025 in statistik_world: Good Friday, the weekend and Easter Monday are not working days.
    assert CAL.working_days_between(date(2025, 4, 14), date(2025, 4, 22)) == 4


@pytest.mark.parametrize("dep,year", [("A", None), ("B", None), (None, None), ("A", 2025), (None, 2025), (None, 2026), ("B", 2024), ("A", 2031)])
def test_numbers_equal_those_computed_from_the_rows(db, dep, year) -> None:  # noqa: ANN001
    assert db.scalar(select(func.count(Case.id))) == 0  # the municipality is what this test makes
    w = build(db)
    department = w.deps[dep].id if dep else service.ALL
    got = service.compute(db, w.registrar, department, year, now=NOW)
    want = expected(dep, year, NOW)
    assert _figures(got) == want
    assert got.department_id == (w.deps[dep].id if dep else None)
    assert got.scope_label == (w.deps[dep].name if dep else service.MUNICIPALITY)
    assert got.funding_decided_total_sek == sum(want["decided"].values())
    assert got.funding_paid_total_sek == sum(want["paid"].values())
    assert got.overdue_deadlines_total == sum(want["late_kinds"].values())


def test_hand_checked_figures_for_department_a(db) -> None:  # noqa: ANN001
    w = build(db)
    s = service.compute(db, w.officer, None, None, now=NOW)  # an officer starts with their own department
    assert s.department_id == w.deps["A"].id
    # Submitted 2026-01-01 00:30 in Stockholm is 2025 in UTC: it counts for 2026.
    assert {(c.year, c.stage): c.count for c in s.partnerships} == {
        (2025, "follow_up"): 1, (2025, "rejected"): 1, (2025, "closed"): 1, (2026, "identify_need"): 1}
    by_year = {f.year: f for f in s.funding}
    # 300 000 in force 2025-06-02, and the terminated case's requested 250 000 (its terms had no funding).
    assert by_year[2025].decided_sek == 550_000 and by_year[2025].decided_agreements == 2
    # 100 000 due 2025-05-15 paid on entry into force, 100 000 on 2025-09-01, 125 000 before the termination.
    assert by_year[2025].paid_sek == 325_000 and by_year[2025].paid_instalments == 3
    assert 2026 not in by_year  # 2026-03-01 has not come on 2026-01-15
    dialogue_reviews = next(d for d in s.review_durations if d.key == "dialogue")
    assert dialogue_reviews.count == 2  # the withdrawn request is not a decision
    assert s.overdue_reviews == 1 and s.overdue_cases == 1
    assert {o.kind: o.count for o in s.overdue_deadlines if o.count} == {"triage": 1, "review": 1}
    assert s.organisations == 3


def test_access_rules(db) -> None:  # noqa: ANN001
    w = build(db)
    assert service.compute(db, w.officer_b, None, None, now=NOW).department_id == w.deps["B"].id
    assert service.compute(db, w.officer, w.deps["B"].id, None, now=NOW).department_id == w.deps["B"].id  # may pick another
    assert service.compute(db, w.approver, service.ALL, None, now=NOW).department_id is None
    assert service.compute(db, w.registrar, None, None, now=NOW).department_id is None
    assert service.compute(db, w.admin, None, None, now=NOW).scope_label == service.MUNICIPALITY
    from service.errors import Forbidden, ValidationFailed

    with pytest.raises(Forbidden):
        service.compute(db, w.member, None, None, now=NOW)
    with pytest.raises(ValidationFailed):
        service.compute(db, w.registrar, 2**31 - 2, None, now=NOW)


def test_api_json_csv_and_xlsx_carry_the_same_numbers(client, db) -> None:  # noqa: ANN001
    w = build(db)
    params = {"department_id": str(w.deps["A"].id), "year": "2025"}
    body = client.get("/api/v1/statistics", params=params, headers=auth(w.officer_b))
    assert body.status_code == 200, body.text
    s = Statistics.model_validate(body.json())
    assert _figures(s) == expected("A", 2025, utcnow())

    got_csv = client.get("/api/v1/statistics.csv", params=params, headers=auth(w.officer_b))
    assert got_csv.status_code == 200 and got_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in got_csv.headers["content-disposition"]
    text = got_csv.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0] == ["Avsnitt", "Mått", "År", "Kategori", "Värde"]
    csv_rows = [(r[0], r[1], r[2], r[3], float(r[4].replace(",", ".")) if r[4] else None) for r in table[1:]]

    got_xlsx = client.get("/api/v1/statistics.xlsx", params=params, headers=auth(w.officer_b))
    assert got_xlsx.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(got_xlsx.content))
    sheet = list(wb["Statistik"].iter_rows(values_only=True))
    assert list(sheet[0]) == ["Avsnitt", "Mått", "År", "Kategori", "Värde"]
    xlsx_rows = [(a, b, str(c), d, float(e) if e is not None else None) for a, b, c, d, e in sheet[1:]]
    assert xlsx_rows == csv_rows

    def value(section: str, measure: str, year: str, category: str) -> float | None:
        hits = [r[4] for r in csv_rows if r[:4] == (section, measure, year, category)]
        assert len(hits) == 1, (section, measure, year, category)
        return hits[0]

    for c in s.partnerships:
        assert value("Partnerskap per skede och år", "Antal partnerskap", str(c.year), c.label) == c.count
    for f in s.funding:
        assert value("Finansiering per år", "Beslutat belopp (kr)", str(f.year), "Avtal som trätt i kraft") == f.decided_sek
        assert value("Finansiering per år", "Utbetalt belopp (kr)", str(f.year), "Utbetalningar enligt avtal") == f.paid_sek
    for d in s.stage_durations:
        assert value("Arbetsdagar per skede", "Median (arbetsdagar)", "2025", d.label) == d.median_working_days
        assert value("Arbetsdagar per skede", "Medelvärde (arbetsdagar)", "2025", d.label) == d.mean_working_days
    assert value("Försenat", "Försenade ärenden", "2025", "Totalt") == s.overdue_cases
    assert value("Organisationer", "Antal organisationer", "2025", "Totalt") == s.organisations
    # The cross table per stage and year adds up to the partnerships per year.
    cross = list(wb["Per skede och år"].iter_rows(values_only=True))
    assert cross[0][0] == "År" and cross[0][-1] == "Totalt"
    for row in cross[1:]:
        assert sum(row[1:-1]) == row[-1] == next(y.count for y in s.partnerships_per_year if y.year == row[0])
    funding = {r[0]: r[1:] for r in list(wb["Finansiering"].iter_rows(values_only=True))[1:]}
    assert funding == {f.year: (f.decided_sek, f.decided_agreements, f.paid_sek, f.paid_instalments) for f in s.funding}


def test_api_access_and_bad_parameters(client, db) -> None:  # noqa: ANN001
    w = build(db)
    for path in ("/api/v1/statistics", "/api/v1/statistics.csv", "/api/v1/statistics.xlsx"):
        problem(client.get(path, headers=auth(w.member)), 403)
        problem(client.get(path), 401)
    mine = client.get("/api/v1/statistics", headers=auth(w.officer)).json()
    assert mine["department_id"] == w.deps["A"].id
    everything = client.get("/api/v1/statistics", params={"department_id": "all"}, headers=auth(w.officer)).json()
    assert everything["department_id"] is None and everything["partnerships_total"] == expected(None, None, utcnow())["total"]
    assert client.get("/api/v1/statistics", headers=auth(w.admin)).json()["department_id"] is None
    for params, field in (({"department_id": "socialen"}, "department_id"), ({"department_id": "999999"}, "department_id"),
                          ({"department_id": "0"}, "department_id"), ({"year": "1999"}, "year"), ({"year": "tjugo"}, "year")):
        for path in ("/api/v1/statistics", "/api/v1/statistics.csv"):
            body = problem(client.get(path, params=params, headers=auth(w.registrar)), 422)
            assert any(e["field"].rsplit(".", 1)[-1] == field for e in body["errors"]), body


def test_exports_never_write_a_formula_and_keep_decimals() -> None:
    from service.statistics import export
    from service.statistics.schemas import Duration

    s = Statistics(department_id=1, scope_label='=HYPERLINK("http://example.invalid","klicka")', year=2026, generated_at=utcnow(),
                   years=[2026], partnerships=[], partnerships_per_year=[], partnerships_total=0, funding=[],
                   funding_decided_total_sek=0, funding_paid_total_sek=0,
                   stage_durations=[Duration(key="dialogue", label="Dialog", count=2, mean_working_days=21.5, median_working_days=21.5)],
                   review_durations=[], overdue_deadlines=[], overdue_deadlines_total=0, overdue_reviews=0, overdue_cases=0,
                   organisations=0, organisations_per_year=[])
    table = list(csv.reader(io.StringIO(export.to_csv(s).decode("utf-8-sig")), delimiter=";"))
    assert table[1][3].startswith("'=HYPERLINK")
    assert ["Arbetsdagar per skede", "Medelvärde (arbetsdagar)", "2026", "Dialog", "21,5"] in table
    ws = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(s)))["Statistik"]
    assert ws["D2"].value.startswith("'=HYPERLINK") and ws["D2"].data_type == "s"
    assert ("Arbetsdagar per skede", "Medelvärde (arbetsdagar)", 2026, "Dialog", 21.5) in list(ws.iter_rows(values_only=True))
    assert export.filename(s, "csv") == "iop-statistik-forvaltning-1-2026.csv"
