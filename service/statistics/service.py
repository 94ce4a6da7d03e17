"""Partnership statistics for a department or the whole municipality: the one computation behind the API, the page and the exports.

Contract:
- Who: officers, approvers, registrars and administrators. The figures are aggregates without case content, so staff
  may look at another department or the whole municipality; officers and approvers start with their own department,
  registrars and administrators with the whole municipality. Organisation members get 403.
- What counts as a partnership: a submitted case (drafts belong to the organisation until they are submitted, as in
  service.cases.access.visible). Years are calendar years in the municipality's time zone.
- Per stage and year: partnerships by year of submission and the stage they are in now.
- Funding decided: the amount the agreement decision decided (service.agreements.amounts.amount_of), in the year the
  agreement entered into force (the approval that moved the case to follow-up).
- Funding paid: the agreement's instalments, each paid on its due date or, when due before the agreement entered into
  force, on that day; counted once that day has come, and not after the case left follow-up early (terminated,
  rejected or withdrawn: a normally closed agreement has had its instalments).
- Working days (service.deadlines.calendar): per stage, from the day a case entered a stage to the day it left it
  (stays that ended; the start day does not count, as with deadlines); per review, from request to decision (decided
  reviews; withdrawn ones are not decisions).
- Overdue: deadlines and reviews overdue by the one rule (service.dashboard.overdue), now; a year narrows to those due
  in that year. Overdue cases: the cases with one of them.
- Organisations: distinct organisations among the selected partnerships.
- A year narrows each figure to its own year: submission, entry into force, payment, end of the stay, decision, due date.
"""

from __future__ import annotations

import statistics as stats
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from service.agreements.amounts import amount_of
from service.agreements.models import Agreement
from service.auth.models import Role, User
from service.cases.models import Case, StageChange
from service.cases.stages import Stage
from service.config import get_settings
from service.dashboard.overdue import deadline_overdue, review_overdue
from service.db import utcnow
from service.deadlines.calendar import WorkingCalendar, calendar_for
from service.deadlines.models import Deadline, DeadlineKind
from service.departments.models import Department
from service.errors import Forbidden, ValidationFailed
from service.labels import DEADLINE_KINDS, STAGES
from service.reviews.models import Review, ReviewStatus
from service.schemas import MAX_ID
from service.statistics.schemas import Duration, FundingYear, OverdueKind, StageYearCount, Statistics, YearCount

STAFF = (Role.OFFICER, Role.APPROVER, Role.REGISTRAR, Role.ADMIN)
ALL = "all"
YEAR_MIN, YEAR_MAX = 2000, 2100
MUNICIPALITY = "Hela kommunen"
# The stages a case stays in while it is worked on, in process order (draft is the organisation's, the rest are ends).
WORKING_STAGES: tuple[Stage, ...] = (Stage.IDENTIFY_NEED, Stage.DIALOGUE, Stage.AGREEMENT, Stage.FOLLOW_UP)
DECIDED = (ReviewStatus.APPROVED, ReviewStatus.REJECTED, ReviewStatus.CHANGES_REQUESTED)
# Leaving follow-up this way ends the payments (a normal close comes after the final report).
EARLY_ENDS = (Stage.REJECTED, Stage.WITHDRAWN)

DepartmentChoice = int | Literal["all"] | None


@dataclass(frozen=True)
class Scope:
    """Whose figures: one department (or None: the whole municipality) and optionally one year."""

    department_id: int | None
    label: str
    year: int | None


def parse_department(raw: str | int | None) -> DepartmentChoice:
    """A department filter as given in a query: absent (the user's default), 'all' (the whole municipality) or an id."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, int):
        value = raw
    elif raw.strip().lower() in (ALL, "alla"):
        return ALL
    elif raw.strip().isascii() and raw.strip().isdigit():
        value = int(raw.strip())
    else:
        raise _invalid("department_id", "Ange en förvaltnings id eller 'all' för hela kommunen / a department id or 'all'")
    if not 0 < value <= MAX_ID:
        raise _invalid("department_id", "Okänd förvaltning / unknown department")
    return value


def parse_year(raw: str | int | None) -> int | None:
    """A year filter as given in a query (absent: every year)."""
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or not YEAR_MIN <= int(text) <= YEAR_MAX:
        raise _invalid("year", f"Året måste vara ett årtal mellan {YEAR_MIN} och {YEAR_MAX} / year must be between {YEAR_MIN} and {YEAR_MAX}")
    return int(text)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("Ogiltigt filter / invalid filter", errors=[{"field": field, "message": message}])


def ensure_staff(user: User) -> None:
    """403 for anyone but the municipality's staff."""
    if user.role not in STAFF:
        raise Forbidden("Statistiken är för kommunens personal / statistics are for the municipality's staff")


def default_department(user: User) -> int | None:
    """The department a user's statistics start with (None: the whole municipality)."""
    return user.department_id if user.role in (Role.OFFICER, Role.APPROVER) else None


def resolve_scope(session: Session, user: User, department: DepartmentChoice, year: int | None) -> Scope:
    """The scope the filters name, for this user (403 for non-staff, 422 for a department that does not exist)."""
    ensure_staff(user)
    if year is not None and not YEAR_MIN <= year <= YEAR_MAX:
        raise _invalid("year", f"Året måste vara mellan {YEAR_MIN} och {YEAR_MAX} / year must be between {YEAR_MIN} and {YEAR_MAX}")
    dep_id = default_department(user) if department is None else None if department == ALL else department
    if dep_id is None:
        return Scope(None, MUNICIPALITY, year)
    dep = session.get(Department, dep_id) if 0 < dep_id <= MAX_ID else None
    if dep is None:
        raise _invalid("department_id", "Okänd förvaltning / unknown department")
    return Scope(dep.id, dep.name, year)


def department_choices(session: Session) -> list[Department]:
    """Every department, by name (statistics may be shown for any of them)."""
    return list(session.scalars(select(Department).order_by(Department.name, Department.id)))


class _WorkingDays:
    """Working days between local dates, counted as WorkingCalendar.working_days_between counts them, by prefix sums."""

    def __init__(self, cal: WorkingCalendar, days: list[date]) -> None:
        self.origin = min(days, default=date(2000, 1, 1))
        last = max(days, default=self.origin)
        self.prefix = [0]
        d = self.origin
        while d < last:
            d += timedelta(days=1)
            self.prefix.append(self.prefix[-1] + (1 if cal.is_working_day(d) else 0))

    def between(self, a: date, b: date) -> int:
        """Working days in (a, b]; 0 when b is not after a."""
        if b <= a:
            return 0
        return self.prefix[(b - self.origin).days] - self.prefix[(a - self.origin).days]


def _duration(key: str, label: str, values: list[int]) -> Duration:
    return Duration(key=key, label=label, count=len(values),
                    mean_working_days=round(stats.fmean(values), 1) if values else None,
                    median_working_days=float(stats.median(values)) if values else None)


def _instalments(terms: dict[str, Any] | None) -> list[tuple[date, int]]:
    """(due date, amount) of each instalment in an agreement's terms; an unreadable row counts as none."""
    out = []
    for item in (terms or {}).get("instalments") or []:
        try:
            out.append((date.fromisoformat(str(item["due_on"])), int(item["amount_sek"])))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def compute(session: Session, user: User, department: DepartmentChoice = None, year: int | None = None,
            now: datetime | None = None) -> Statistics:
    """The statistics of a department (or the municipality) for the user, optionally for one year."""
    scope = resolve_scope(session, user, department, year)
    now = now or utcnow()
    cal = calendar_for(get_settings().timezone)
    local = cal.local_date
    today = local(now)
    in_scope: list[ColumnElement[bool]] = [Case.submitted_at.is_not(None)]
    if scope.department_id is not None:
        in_scope.append(Case.department_id == scope.department_id)

    def wanted(d: date | int) -> bool:
        """Whether a day (or a year) is in the selected year."""
        return scope.year is None or (d if isinstance(d, int) else d.year) == scope.year

    # Partnerships per year of submission and current stage; organisations among them.
    per_cell: Counter[tuple[int, str]] = Counter()
    orgs_per_year: dict[int, set[int]] = defaultdict(set)
    for stage, submitted_at, org_id in session.execute(select(Case.stage, Case.submitted_at, Case.organisation_id).where(*in_scope)):
        y = local(submitted_at).year
        if wanted(y):
            per_cell[(y, Stage(stage).value)] += 1
            orgs_per_year[y].add(org_id)
    stage_order = {s.value: i for i, s in enumerate(Stage)}
    partnerships = [StageYearCount(year=y, stage=s, label=STAGES[Stage(s)], count=n)
                    for (y, s), n in sorted(per_cell.items(), key=lambda kv: (kv[0][0], stage_order[kv[0][1]]))]
    per_year = Counter[int]()
    for (y, _), n in per_cell.items():
        per_year[y] += n

    # Funding: the agreements that entered into force, and their payment schedule.
    left_follow_up = {cid: (Stage(to), at) for cid, to, at in session.execute(
        select(StageChange.case_id, StageChange.to_stage, StageChange.at).join(Case, Case.id == StageChange.case_id)
        .where(*in_scope, StageChange.from_stage == Stage.FOLLOW_UP))}
    decided: Counter[int] = Counter()
    decided_n: Counter[int] = Counter()
    paid: Counter[int] = Counter()
    paid_n: Counter[int] = Counter()
    # Plain rows, not ORM objects (a municipality's every agreement): a row has the attributes amount_of() reads.
    rows = session.execute(
        select(Case.id, Case.terminated, Case.requested_amount_sek, Agreement.id.label("agreement_id"), Agreement.funding_amount_sek,
               Agreement.terms, StageChange.at)
        .join(StageChange, StageChange.case_id == Case.id).outerjoin(Agreement, Agreement.case_id == Case.id)
        .where(*in_scope, StageChange.to_stage == Stage.FOLLOW_UP)).all()
    for row in rows:
        in_force = local(row.at)
        if wanted(in_force):
            decided[in_force.year] += amount_of(row, row if row.agreement_id is not None else None)  # type: ignore[arg-type]
            decided_n[in_force.year] += 1
        last_day = today
        ended = left_follow_up.get(row.id)
        if ended is not None and (ended[0] in EARLY_ENDS or row.terminated):
            last_day = min(today, local(ended[1]))
        for due_on, amount in _instalments(row.terms):
            paid_on = max(due_on, in_force)
            if paid_on <= last_day and wanted(paid_on):
                paid[paid_on.year] += amount
                paid_n[paid_on.year] += 1
    funding = [FundingYear(year=y, decided_sek=decided[y], decided_agreements=decided_n[y], paid_sek=paid[y], paid_instalments=paid_n[y])
               for y in sorted(set(decided) | set(paid))]

    # Working days per stage, from the stage history.
    changes = session.execute(
        select(StageChange.case_id, StageChange.to_stage, StageChange.at).join(Case, Case.id == StageChange.case_id)
        .where(*in_scope).order_by(StageChange.case_id, StageChange.at, StageChange.id)).all()
    stays: list[tuple[str, date, date]] = []
    for (case_id, stage, entered), nxt in zip(changes, changes[1:], strict=False):
        if nxt.case_id == case_id and Stage(stage) in WORKING_STAGES:
            stays.append((Stage(stage).value, local(entered), local(nxt.at)))
    reviews = session.execute(
        select(Review.from_stage, Review.requested_at, Review.decided_at).join(Case, Case.id == Review.case_id)
        .where(*in_scope, Review.status.in_(DECIDED), Review.decided_at.is_not(None))).all()
    review_spans = [(Stage(f).value, local(r), local(d)) for f, r, d in reviews]
    counter = _WorkingDays(cal, [d for _, a, b in [*stays, *review_spans] for d in (a, b)])
    per_stage: dict[str, list[int]] = defaultdict(list)
    for stage, a, b in stays:
        if wanted(b):
            per_stage[stage].append(counter.between(a, b))
    per_review: dict[str, list[int]] = defaultdict(list)
    for stage, a, b in review_spans:
        if wanted(b):
            per_review[stage].append(counter.between(a, b))
    stage_durations = [_duration(s.value, STAGES[s], per_stage[s.value]) for s in WORKING_STAGES]
    review_durations = [_duration(s.value, f"{STAGES[s]} till {STAGES[nxt]}".capitalize(), per_review[s.value])
                        for s, nxt in zip(WORKING_STAGES, (*WORKING_STAGES[1:], Stage.CLOSED), strict=True)]
    review_durations.append(_duration("all", "Alla granskningar", [v for vs in per_review.values() for v in vs]))

    # Overdue, by the one rule.
    late_deadlines = [(k, cid) for k, cid, due in session.execute(
        select(Deadline.kind, Deadline.case_id, Deadline.due_at).join(Case, Case.id == Deadline.case_id)
        .where(*in_scope, deadline_overdue(now))) if wanted(local(due))]
    late_reviews = [cid for cid, due in session.execute(
        select(Review.case_id, Review.due_at).join(Case, Case.id == Review.case_id).where(*in_scope, review_overdue(now)))
        if wanted(local(due))]
    by_kind = Counter(DeadlineKind(k) for k, _ in late_deadlines)
    overdue = [OverdueKind(kind=k.value, label=DEADLINE_KINDS[k], count=by_kind[k]) for k in DeadlineKind]

    years = sorted(set(per_year) | {f.year for f in funding}) if scope.year is None else [scope.year]
    return Statistics(
        department_id=scope.department_id, scope_label=scope.label, year=scope.year, generated_at=now, years=years,
        partnerships=partnerships, partnerships_per_year=[YearCount(year=y, count=per_year[y]) for y in sorted(per_year)],
        partnerships_total=sum(per_cell.values()),
        funding=funding, funding_decided_total_sek=sum(decided.values()), funding_paid_total_sek=sum(paid.values()),
        stage_durations=stage_durations, review_durations=review_durations,
        overdue_deadlines=overdue, overdue_deadlines_total=len(late_deadlines), overdue_reviews=len(late_reviews),
        overdue_cases=len({cid for _, cid in late_deadlines} | set(late_reviews)),
        organisations=len(set().union(*orgs_per_year.values())) if orgs_per_year else 0,
        organisations_per_year=[YearCount(year=y, count=len(orgs_per_year[y])) for y in sorted(orgs_per_year)],
    )
