"""Goals (mål) and their indicators: the units, what a value of each unit may be, and the register the reports point to.

Contract:
- A goal is written in the agreement terms (AgreementTerms.goals) with its indicators: name, unit, baseline, target, how it
  is measured and the follow-up reports (by their due date in the terms' follow-up schedule) it is reported in; none
  listed means every scheduled report. A goal written as plain text (terms saved before indicators existed) is a goal
  without indicators.
- `check_value` is the one rule of what a value of a unit may be (an agreement's baseline and target, a report's achieved
  value): count and kronor are whole numbers, percent 0–100, hours and numbers at most two decimals; nothing negative
  except a plain number.
- `sync` writes the register (agreement_goals, agreement_indicators, indicator_periods) from complete stored terms, and
  clears it for a draft: follow-up reports, their achieved values and the charts refer to these rows. Terms are frozen at
  the first signature, so the register of an agreement in force never changes under a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.agreements.models import AgreementGoal, AgreementIndicator, IndicatorPeriod
from service.errors import Conflict
from service.followup.models import IndicatorResult
from service.schemas import NoControlChars, PlanDate, ShortText


class IndicatorUnit(StrEnum):
    """What an indicator counts in."""

    NUMBER = "number"
    COUNT = "count"
    PERCENT = "percent"
    SEK = "sek"
    HOURS = "hours"


UNIT_LABELS = {IndicatorUnit.NUMBER: "tal", IndicatorUnit.COUNT: "antal", IndicatorUnit.PERCENT: "procent",
               IndicatorUnit.SEK: "kronor", IndicatorUnit.HOURS: "timmar"}
UNIT_SUFFIX = {IndicatorUnit.NUMBER: "", IndicatorUnit.COUNT: "st", IndicatorUnit.PERCENT: "%", IndicatorUnit.SEK: "kr",
               IndicatorUnit.HOURS: "h"}
WHOLE = frozenset({IndicatorUnit.COUNT, IndicatorUnit.SEK})
MAX_VALUE = 10_000_000_000  # as large as an agreement's funding; anything larger is a typing error
MAX_INDICATORS = 20


def located_errors(title: str, items: list[tuple[tuple[str | int, ...], str, object]]) -> ValidationError:
    """Several errors at once, each at its own place (a row's date, the list as a whole) under the validated field."""
    return ValidationError.from_exception_data(title, [
        InitErrorDetails(type=PydanticCustomError("value_error", "{error}", {"error": message}), loc=loc, input=value)
        for loc, message, value in items
    ])


def _number(value: object) -> Decimal:
    """A JSON number or a form's text as a Decimal (a comma is a decimal sign); booleans and anything else refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("Ange ett tal / a number is required")
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("Ange ett tal / a number is required") from None
    if not number.is_finite():
        raise ValueError("Ange ett tal / a number is required")
    return number


def check_value(unit: IndicatorUnit | str, value: object) -> int | float:
    """The value as stored for this unit, or ValueError saying (Swedish / English) why a value of this unit cannot be it."""
    unit = IndicatorUnit(unit)
    number = _number(value)
    if abs(number) > MAX_VALUE:
        raise ValueError(f"Värdet får vara högst {MAX_VALUE:,} / value too large".replace(",", " "))
    if unit in WHOLE:
        if number != number.to_integral_value():
            what = "Antal" if unit == IndicatorUnit.COUNT else "Kronor"
            raise ValueError(f"{what} anges i heltal, utan decimaler / {unit.value} must be a whole number")
        if number < 0:
            raise ValueError(f"Värdet kan inte vara negativt / {unit.value} cannot be negative")
        return int(number)
    if number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("Ange högst två decimaler / at most two decimals")
    if unit == IndicatorUnit.PERCENT and not 0 <= number <= 100:
        raise ValueError("Procent anges mellan 0 och 100 / percent must be between 0 and 100")
    if unit == IndicatorUnit.HOURS and number < 0:
        raise ValueError("Timmar kan inte vara negativa / hours cannot be negative")
    return int(number) if number == number.to_integral_value() else float(number)


def format_value(unit: IndicatorUnit | str, value: float | int | None) -> str:
    """A value as a Swedish reader writes it: '1 200 kr', '12,5 %', '40 st'."""
    if value is None:
        return "–"
    unit = IndicatorUnit(unit)
    whole = float(value).is_integer()
    text = f"{int(value):,}" if whole else f"{value:,.2f}".rstrip("0")
    text = text.replace(",", "\u00a0").replace(".", ",")
    suffix = UNIT_SUFFIX[unit]
    return f"{text}\u00a0{suffix}" if suffix else text


def _plain_goal(data: object) -> object:
    """A goal written as plain text (terms before indicators) is a goal with that title and no indicators."""
    return {"title": data} if isinstance(data, str) else data


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("Ange ett tal / a number is required")
    return value


MeasureText = Annotated[str, Field(min_length=1, max_length=2_000), NoControlChars]
Value = Annotated[int | float | str, Field(union_mode="left_to_right"), BeforeValidator(_not_bool)]


def _checked_values(indicator: BaseModel, unit: IndicatorUnit) -> list[tuple[tuple[str | int, ...], str, object]]:
    """Baseline and target read as values of the unit (set on the model); a problem per value that is not one."""
    problems: list[tuple[tuple[str | int, ...], str, object]] = []
    for field in ("baseline", "target"):
        raw = getattr(indicator, field)
        if raw is None:
            continue
        try:
            setattr(indicator, field, check_value(unit, raw))
        except ValueError as exc:
            problems.append(((field,), str(exc), raw))
    return problems


class Indicator(BaseModel):
    """One indicator of a goal; its baseline and target are values of its unit."""

    name: ShortText
    unit: IndicatorUnit
    baseline: Value | None = None
    target: Value
    how_measured: MeasureText
    periods: Annotated[list[PlanDate], Field(max_length=60)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values_of_unit(self) -> Indicator:
        # Each value checked against the unit here, so the error sits on the value's own field.
        problems = _checked_values(self, self.unit)
        if len(set(self.periods)) != len(self.periods):
            problems.append((("periods",), "Samma rapport är vald två gånger / a report is listed twice", [p.isoformat() for p in self.periods]))
        if problems:
            raise located_errors(type(self).__name__, problems)
        self.periods = sorted(self.periods)
        return self


class Goal(BaseModel):
    """A goal of the agreement and the indicators it is followed up by."""

    title: ShortText
    indicators: Annotated[list[Indicator], Field(max_length=MAX_INDICATORS)] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: object) -> object:
        return _plain_goal(data)


GoalItem = Annotated[Goal, BeforeValidator(_plain_goal)]


def _blank(data: object) -> object:
    if isinstance(data, dict):
        return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}
    return _plain_goal(data) if isinstance(data, str) else data


class IndicatorDraft(BaseModel):
    """An indicator as far as it is filled in (a value given is a value of the unit given)."""

    name: ShortText | None = None
    unit: IndicatorUnit | None = None
    baseline: Value | None = None
    target: Value | None = None
    how_measured: MeasureText | None = None
    periods: Annotated[list[PlanDate], Field(max_length=60)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: object) -> object:
        return _blank(data)

    @model_validator(mode="after")
    def _values_of_unit(self) -> IndicatorDraft:
        # Without a unit yet, a value is at least a number.
        problems = _checked_values(self, self.unit or IndicatorUnit.NUMBER)
        if problems:
            raise located_errors(type(self).__name__, problems)
        return self


class GoalDraft(BaseModel):
    """A goal as far as it is filled in."""

    title: ShortText | None = None
    indicators: Annotated[list[IndicatorDraft], Field(max_length=MAX_INDICATORS)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: object) -> object:
        return _blank(data)


def periods_outside(goals: list[Goal], report_dates: set[date]) -> list[tuple[tuple[str | int, ...], str, object]]:
    """Indicator periods that are no report of the follow-up schedule, each at its indicator's place."""
    listed = ", ".join(d.isoformat() for d in sorted(report_dates)) or "inga"
    return [(("goals", g, "indicators", i, "periods"),
             f"{day.isoformat()} är inte en rapport i uppföljningsplanen (rapporterna lämnas {listed}) "
             f"/ not a report date of the follow-up schedule", day.isoformat())
            for g, goal in enumerate(goals) for i, ind in enumerate(goal.indicators) for day in ind.periods if day not in report_dates]


def goals_of(terms: Mapping[str, Any] | None) -> list[Goal]:
    """The goals of stored terms (plain-text goals as goals without indicators)."""
    return [Goal.model_validate(g) for g in (terms or {}).get("goals") or []]


def sync(session: Session, case_id: int, terms: Mapping[str, Any] | None, *, complete: bool) -> None:
    """Write the register of goals and indicators from complete terms, or clear it for a draft (refused once reported on)."""
    existing = select(AgreementIndicator.id).where(AgreementIndicator.case_id == case_id)
    if session.scalar(select(IndicatorResult.id).where(IndicatorResult.indicator_id.in_(existing)).limit(1)):
        raise Conflict("Indikatorerna har redan rapporterats; målen kan inte ändras / indicators already reported on")
    session.execute(delete(IndicatorPeriod).where(IndicatorPeriod.indicator_id.in_(existing)))
    session.execute(delete(AgreementIndicator).where(AgreementIndicator.case_id == case_id))
    session.execute(delete(AgreementGoal).where(AgreementGoal.case_id == case_id))
    if not complete or not terms:
        return
    every_report = sorted({date.fromisoformat(r["due_on"]) for r in terms.get("followup_schedule") or []})
    for g, goal in enumerate(goals_of(terms)):
        row = AgreementGoal(case_id=case_id, position=g, title=goal.title)
        session.add(row)
        session.flush()
        for i, ind in enumerate(goal.indicators):
            indicator = AgreementIndicator(case_id=case_id, goal_id=row.id, position=i, name=ind.name, unit=ind.unit,
                                           baseline=ind.baseline, target=ind.target, how_measured=ind.how_measured)
            session.add(indicator)
            session.flush()
            session.add_all(IndicatorPeriod(indicator_id=indicator.id, due_on=d) for d in (ind.periods or every_report))
    session.flush()


def ensure_register(session: Session, case_id: int, terms: Mapping[str, Any]) -> None:
    """The register of an agreement entering into force (terms stored before it existed get theirs now)."""
    if session.scalar(select(AgreementGoal.id).where(AgreementGoal.case_id == case_id).limit(1)) is None:
        sync(session, case_id, terms, complete=True)
