"""De minimis: the organisation's public support over a rolling three years, in euro."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.amounts import amount_of
from service.agreements.models import Agreement
from service.cases.models import Case
from service.cases.stages import Stage

# Cases whose support counts: granted or about to be (this case is always counted).
COUNTED = (Stage.AGREEMENT, Stage.FOLLOW_UP, Stage.CLOSED)


@dataclass
class DeMinimisLine:
    """One case in the computation."""

    case_id: int
    diarienummer: str | None
    amount_sek: int
    period_start: date | None


@dataclass
class DeMinimisResult:
    """The computation, shown to the officer, and whether it passes."""

    window_start: date
    window_end: date
    sek_per_eur: float
    ceiling_eur: int
    lines: list[DeMinimisLine] = field(default_factory=list)

    @property
    def total_sek(self) -> int:
        """Sum over the window, SEK."""
        return sum(line.amount_sek for line in self.lines)

    @property
    def total_eur(self) -> float:
        """Sum over the window converted at the configured rate."""
        return round(self.total_sek / self.sek_per_eur, 2)

    @property
    def passes(self) -> bool:
        """True when within the ceiling."""
        return self.total_eur <= self.ceiling_eur


def _three_years_before(day: date) -> date:
    """The rolling window's start; 29 February falls back to the 28th, and a date in the years 1–3 to the first day."""
    if day.year <= 3:
        return date.min  # only stored data older than the schemas' date range gets here
    return day.replace(year=day.year - 3) if not (day.month == 2 and day.day == 29) else date(day.year - 3, 2, 28)


def compute(session: Session, case: Case, *, sek_per_eur: float, ceiling_eur: int, today: date) -> DeMinimisResult:
    """Sum this case and the organisation's other counted cases starting within three years before it."""
    anchor = case.period_start or today
    window_start = _three_years_before(anchor)
    result = DeMinimisResult(window_start, anchor, sek_per_eur, ceiling_eur)
    rows = session.execute(
        select(Case, Agreement)
        .outerjoin(Agreement, Agreement.case_id == Case.id)
        .where(Case.organisation_id == case.organisation_id, Case.id != case.id, Case.stage.in_(COUNTED))
        .order_by(Case.id)
    ).all()
    for other, agreement in rows:
        start = (agreement.period_start if agreement else None) or other.period_start
        if start is None or window_start <= start <= anchor or (start < window_start and (other.period_end or start) >= window_start):
            result.lines.append(DeMinimisLine(other.id, other.diarienummer, amount_of(other, agreement), start))
    own = session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    result.lines.append(DeMinimisLine(case.id, case.diarienummer, amount_of(case, own), case.period_start))
    return result
