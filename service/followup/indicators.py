"""A report's achieved values per indicator, the officer's rating of each, and the series the case page charts.

Contract:
- A report gives a value for exactly the indicators reported in it (indicator_periods: the report's due date), each a
  value of the indicator's unit (service.agreements.goals.check_value); an unknown indicator, one not reported in this
  period, a missing one or a value of the wrong type refuses the whole report (422 listing every item), nothing stored.
- Approving a report rates every reported indicator (met / partly / not met, with a comment); asking for completion may
  rate some. Ratings name indicators of the report only.
- `series` and `money` are what the case page, the follow-up summary and the API read: target vs achieved per report,
  money reported used vs the instalments planned, cumulative by date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.goals import UNIT_LABELS, IndicatorUnit, check_value, format_value
from service.agreements.models import Agreement, AgreementGoal, AgreementIndicator, IndicatorPeriod
from service.agreements.schemas import AgreementTerms
from service.errors import ValidationFailed
from service.followup.models import Assessment, FollowUpReport, IndicatorResult, Rating
from service.followup.schemas import IndicatorRatingIn, IndicatorValueIn


def expected(session: Session, report: FollowUpReport) -> list[tuple[AgreementIndicator, AgreementGoal]]:
    """The indicators this report gives values for, in the agreement's order."""
    return list(session.execute(
        select(AgreementIndicator, AgreementGoal).join(AgreementGoal, AgreementGoal.id == AgreementIndicator.goal_id)
        .join(IndicatorPeriod, IndicatorPeriod.indicator_id == AgreementIndicator.id)
        .where(AgreementIndicator.case_id == report.case_id, IndicatorPeriod.due_on == report.due_on)
        .order_by(AgreementGoal.position, AgreementIndicator.position)).tuples())


def check_values(session: Session, report: FollowUpReport, values: list[IndicatorValueIn]) -> list[IndicatorResult]:
    """The report's values as rows to store, or 422 listing every value that is unknown, missing or of the wrong type."""
    due = {ind.id: ind for ind, _ in expected(session, report)}
    errors: list[dict[str, Any]] = []
    rows: list[IndicatorResult] = []
    seen: set[int] = set()
    for n, item in enumerate(values):
        indicator = due.get(item.indicator_id)
        if indicator is None:
            errors.append({"field": f"indicator_values.{n}.indicator_id",
                           "message": f"Indikatorn {item.indicator_id} rapporteras inte för den här perioden / not an indicator of this report"})
            continue
        if item.indicator_id in seen:
            errors.append({"field": f"indicator_values.{n}.indicator_id",
                           "message": f"{indicator.name}: värdet är angivet två gånger / value given twice"})
            continue
        seen.add(item.indicator_id)
        try:
            value = check_value(indicator.unit, item.value)
        except ValueError as exc:
            errors.append({"field": f"indicator_values.{n}.value", "message": f"{indicator.name} ({UNIT_LABELS[IndicatorUnit(indicator.unit)]}): {exc}"})
            continue
        rows.append(IndicatorResult(indicator_id=indicator.id, value=value, comment=item.comment))
    for indicator_id, indicator in due.items():
        if indicator_id not in seen:
            errors.append({"field": "indicator_values", "indicator_id": indicator_id,
                           "message": f"Ange uppnått värde för {indicator.name} / value missing for this indicator"})
    if errors:
        raise ValidationFailed("Indikatorernas värden kunde inte tas emot / indicator values refused", errors=errors)
    return rows


def store_values(session: Session, report: FollowUpReport, rows: list[IndicatorResult]) -> None:
    """Replace the report's values (a completed report's earlier values and ratings go with the earlier version)."""
    report.results.clear()
    session.flush()  # the earlier rows go first: one value per indicator and report
    report.results.extend(rows)


def rate(session: Session, report: FollowUpReport, assessment: Assessment, ratings: list[IndicatorRatingIn]) -> None:
    """Set the officer's rating of each indicator, or 422 when one is of no indicator of the report or, approving, one is missing."""
    by_indicator = {r.indicator_id: r for r in report.results}
    names = {ind.id: ind.name for ind, _ in expected(session, report)}
    errors: list[dict[str, Any]] = []
    given: dict[int, IndicatorRatingIn] = {}
    for n, item in enumerate(ratings):
        if item.indicator_id not in by_indicator:
            errors.append({"field": f"indicators.{n}.indicator_id",
                           "message": f"Indikatorn {item.indicator_id} finns inte i rapporten / not an indicator of this report"})
        elif item.indicator_id in given:
            errors.append({"field": f"indicators.{n}.indicator_id", "message": "Indikatorn är bedömd två gånger / rated twice"})
        else:
            given[item.indicator_id] = item
    if assessment == Assessment.APPROVED:
        for indicator_id in by_indicator:
            if indicator_id not in given:
                errors.append({"field": "indicators", "indicator_id": indicator_id,
                               "message": f"Bedöm om målet för {names.get(indicator_id, indicator_id)} är uppnått / rate every indicator"})
    if errors:
        raise ValidationFailed("Bedömningen av indikatorerna kunde inte tas emot / indicator ratings refused", errors=errors)
    for indicator_id, item in given.items():
        by_indicator[indicator_id].rating = item.rating
        by_indicator[indicator_id].rating_comment = item.comment


@dataclass
class Point:
    """One report's value of an indicator."""

    report_id: int
    period_start: date
    period_end: date
    due_on: date
    achieved: float | None
    comment: str
    rating: Rating | None
    rating_comment: str | None

    @property
    def label(self) -> str:
        """The period as the chart's axis names it."""
        return f"{self.period_start.isoformat()} – {self.period_end.isoformat()}"


@dataclass
class Series:
    """An indicator over the reports it is given in: target vs achieved."""

    indicator_id: int
    goal: str
    name: str
    unit: IndicatorUnit
    baseline: float | None
    target: float
    how_measured: str
    points: list[Point] = field(default_factory=list)

    def show(self, value: float | None) -> str:
        """A value of this indicator as the reader writes it."""
        return format_value(self.unit, value)


def series(session: Session, case_id: int) -> list[Series]:
    """Each indicator of the case's agreement with the value every report due for it gave (None: not reported yet)."""
    indicators = session.execute(
        select(AgreementIndicator, AgreementGoal).join(AgreementGoal, AgreementGoal.id == AgreementIndicator.goal_id)
        .where(AgreementIndicator.case_id == case_id).order_by(AgreementGoal.position, AgreementIndicator.position)).tuples().all()
    if not indicators:
        return []
    periods: dict[int, set[date]] = {}
    for indicator_id, due_on in session.execute(select(IndicatorPeriod.indicator_id, IndicatorPeriod.due_on).where(
            IndicatorPeriod.indicator_id.in_([i.id for i, _ in indicators]))):
        periods.setdefault(indicator_id, set()).add(due_on)
    reports = list(session.scalars(select(FollowUpReport).where(FollowUpReport.case_id == case_id).order_by(FollowUpReport.due_on, FollowUpReport.id)))
    out = []
    for ind, goal in indicators:
        s = Series(indicator_id=ind.id, goal=goal.title, name=ind.name, unit=IndicatorUnit(ind.unit), baseline=ind.baseline,
                   target=ind.target, how_measured=ind.how_measured)
        for report in reports:
            if report.due_on not in periods.get(ind.id, set()):
                continue
            result = next((r for r in report.results if r.indicator_id == ind.id), None)
            submitted = result is not None and report.submitted_at is not None
            s.points.append(Point(report_id=report.id, period_start=report.period_start, period_end=report.period_end, due_on=report.due_on,
                                  achieved=result.value if submitted else None, comment=result.comment if submitted else "",
                                  rating=result.rating if submitted else None, rating_comment=result.rating_comment if submitted else None))
        out.append(s)
    return out


@dataclass
class MoneyPoint:
    """Money planned (instalments) and reported used, cumulative up to a date."""

    on: date
    planned_sek: int
    used_sek: int | None


def money(session: Session, case_id: int) -> list[MoneyPoint]:
    """Cumulative planned instalments vs cumulative money used as reported, at each report's period end."""
    row = session.scalar(select(Agreement).where(Agreement.case_id == case_id))
    if row is None:
        return []
    try:
        terms = AgreementTerms.model_validate(row.terms)
    except ValueError:
        return []  # a draft has no plan yet
    reports = list(session.scalars(select(FollowUpReport).where(FollowUpReport.case_id == case_id).order_by(FollowUpReport.period_end, FollowUpReport.id)))
    out = []
    used: int | None = 0
    for report in reports:
        planned = sum(i.amount_sek for i in terms.instalments if i.due_on <= report.period_end)
        reported = (report.content or {}).get("money_used_sek") if report.submitted_at else None
        # Each report states the money used in its own period; the line adds them up while every report so far has.
        used = used + int(reported) if used is not None and reported is not None else None
        out.append(MoneyPoint(on=report.period_end, planned_sek=planned, used_sek=used))
    return out
