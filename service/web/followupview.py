"""The case page's follow-up: each indicator over time as a chart with its table, money used vs planned, and the report
and assessment forms' indicator fields (the rules: service.followup.indicators).

Form fields: value-<indicator id> and comment-<indicator id> in the organisation's report; rating-<indicator id> and
rating_comment-<indicator id> in the officer's assessment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.agreements.goals import UNIT_LABELS, format_value
from service.agreements.models import AgreementGoal, AgreementIndicator
from service.charts import Series as ChartSeries
from service.charts import chart_figure, data_table, line_chart
from service.followup import indicators
from service.followup.models import RATING_LABELS, FollowUpReport, Rating
from service.web.deps import text
from service.web.labels import sek

RATING_OPTIONS = [(r.value, RATING_LABELS[r], None) for r in Rating]


@dataclass
class IndicatorView:
    """One indicator with its chart and table."""

    series: indicators.Series
    figure: Markup


@dataclass
class FollowUpView:
    """What the case page shows of goals and indicators."""

    indicators: list[IndicatorView] = field(default_factory=list)
    money: Markup | None = None
    due: dict[int, list[tuple[AgreementIndicator, AgreementGoal]]] = field(default_factory=dict)  # per report id
    rating_options = RATING_OPTIONS

    def unit(self, indicator: AgreementIndicator) -> str:
        """The unit's Swedish name."""
        return UNIT_LABELS.get(indicator.unit, indicator.unit)  # type: ignore[call-overload]

    def show(self, indicator: AgreementIndicator, value: float | None) -> str:
        """A value in its unit."""
        return format_value(indicator.unit, value)

    def rating(self, value: str | None) -> str:
        """A rating's Swedish label."""
        return RATING_LABELS.get(value, "") if value else ""  # type: ignore[call-overload]


def _figure(n: int, s: indicators.Series) -> Markup:
    categories = [p.label for p in s.points]
    achieved = ChartSeries("Uppnått", [p.achieved for p in s.points])
    target = ChartSeries("Målvärde", [s.target] * len(categories))
    lines = [target, achieved] + ([ChartSeries("Utgångsvärde", [s.baseline] * len(categories))] if s.baseline is not None else [])
    fmt = s.show
    reported = sum(1 for p in s.points if p.achieved is not None)
    chart = line_chart(chart_id=f"indikator-{n}", title=f"{s.name}: målvärde och uppnått per rapportperiod", categories=categories,
                       series=lines, x_label="Rapportperiod", y_label=UNIT_LABELS[s.unit].capitalize(), value_format=fmt,
                       description=f"Mål: {s.goal}. Målvärde {fmt(s.target)}"
                                   f"{f', utgångsvärde {fmt(s.baseline)}' if s.baseline is not None else ''}. "
                                   f"{reported} av {len(categories)} rapporter har redovisat värdet.")
    table = data_table(caption=f"{s.name} per rapportperiod", categories=categories, category_label="Rapportperiod",
                       series=lines, value_format=fmt, table_id=f"indikator-{n}-tabell")
    return chart_figure(chart, table, show_table=True)


def _money_figure(points: list[indicators.MoneyPoint]) -> Markup:
    categories = [p.on.isoformat() for p in points]
    planned = ChartSeries("Planerade utbetalningar", [p.planned_sek for p in points])
    used = ChartSeries("Använda medel enligt rapporterna", [p.used_sek for p in points])
    chart = line_chart(chart_id="medel", title="Använda medel och planerade utbetalningar, sammanlagt", categories=categories,
                       series=[planned, used], x_label="Rapportperiodens slut", y_label="Kronor", value_format=sek,
                       description="Summan av utbetalningarna enligt avtalet fram till varje rapportperiods slut, och summan av de "
                                   "medel organisationen har redovisat som använda i rapporterna fram till dess.")
    table = data_table(caption="Använda medel och planerade utbetalningar", categories=categories, category_label="Till och med",
                       series=[planned, used], value_format=sek, table_id="medel-tabell")
    return chart_figure(chart, table, show_table=True)


def load(session: Session, case_id: int, reports: list[FollowUpReport]) -> FollowUpView:
    """The follow-up view of a case: the charts once the agreement has indicators or money to compare."""
    view = FollowUpView()
    view.indicators = [IndicatorView(s, _figure(n, s)) for n, s in enumerate(indicators.series(session, case_id), start=1) if s.points]
    money = indicators.money(session, case_id)
    view.money = _money_figure(money) if money else None
    view.due = {r.id: indicators.expected(session, r) for r in reports}
    return view


def report_values(form: FormData, due: list[tuple[AgreementIndicator, AgreementGoal]]) -> list[dict[str, Any]]:
    """The report form's values for the indicators due (a blank value is left out: the service names it as missing)."""
    return [{"indicator_id": ind.id, "value": text(form, f"value-{ind.id}"), "comment": text(form, f"comment-{ind.id}")}
            for ind, _ in due if text(form, f"value-{ind.id}")]


def ratings(form: FormData, report: FollowUpReport) -> list[dict[str, Any]]:
    """The assessment form's ratings of the report's indicators (those chosen)."""
    return [{"indicator_id": r.indicator_id, "rating": text(form, f"rating-{r.indicator_id}"),
             "comment": text(form, f"rating_comment-{r.indicator_id}")} for r in report.results if text(form, f"rating-{r.indicator_id}")]


def place_errors(errors: list[dict[str, Any]], payload: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The service's errors at the form's fields: 'indicator_values.2.value' -> 'value-<id>', a missing one at its field."""
    placed = []
    for e in errors:
        parts = str(e.get("field") or "").split(".")
        item = dict(e)
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(payload):
            item["field"] = f"{prefix}-{payload[int(parts[1])]['indicator_id']}"
        elif e.get("indicator_id"):
            item["field"] = f"{prefix}-{e['indicator_id']}"
        placed.append(item)
    return placed
