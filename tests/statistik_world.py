"""Rows for the statistics tests: two departments' partnerships with stage history, reviews, agreements and deadlines,
and the expected figures computed from the same specification without the service's code."""

from __future__ import annotations

import statistics as pystats
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import factories
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.auth.models import Role, User
from service.cases.models import Case, StageChange
from service.cases.stages import Stage
from service.config import get_settings
from service.deadlines.calendar import WorkingCalendar
from service.deadlines.models import DeadlineKind, DeadlineStatus
from service.deadlines.rules import create as create_deadline
from service.departments.models import Department
from service.reviews.models import Review, ReviewStatus

SE = ZoneInfo("Europe/Stockholm")
CAL = WorkingCalendar(SE)  # a calendar of its own: the expectations do not share the service's instance or its counting
WORKING = (Stage.IDENTIFY_NEED, Stage.DIALOGUE, Stage.AGREEMENT, Stage.FOLLOW_UP)


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A Stockholm wall-clock time, as the UTC instant the database keeps."""
    return datetime(y, m, d, hh, mm, tzinfo=SE).astimezone(UTC)


def day(dt: datetime) -> date:
    return dt.astimezone(SE).date()


@dataclass
class Spec:
    """One partnership: its department ('A'/'B'), organisation (0–2) and the stages it entered, in order."""

    dep: str
    org: int
    stages: list[tuple[Stage, datetime]]
    terminated: bool = False
    requested: int = 400_000
    funding: int | None = None
    instalments: list[tuple[date, int]] = field(default_factory=list)
    reviews: list[tuple[Stage, ReviewStatus, datetime, datetime | None, datetime | None]] = field(default_factory=list)
    deadlines: list[tuple[DeadlineKind, DeadlineStatus, datetime]] = field(default_factory=list)

    @property
    def stage(self) -> Stage:
        return self.stages[-1][0]

    @property
    def submitted(self) -> datetime:
        return self.stages[0][1]


SPECS: list[Spec] = [
    # A: through dialogue and agreement into follow-up; an instalment due before the agreement entered into force.
    Spec("A", 0, [(Stage.IDENTIFY_NEED, at(2025, 3, 3)), (Stage.DIALOGUE, at(2025, 3, 14)), (Stage.AGREEMENT, at(2025, 4, 22)),
                  (Stage.FOLLOW_UP, at(2025, 6, 2))],
         funding=300_000, instalments=[(date(2025, 5, 15), 100_000), (date(2025, 9, 1), 100_000), (date(2026, 3, 1), 100_000)],
         reviews=[(Stage.IDENTIFY_NEED, ReviewStatus.APPROVED, at(2025, 3, 10), at(2025, 3, 14), None),
                  # Over Easter 2025: 15–17 April count, Good Friday, the weekend and Easter Monday do not, 22 April does: 4.
                  (Stage.DIALOGUE, ReviewStatus.APPROVED, at(2025, 4, 14), at(2025, 4, 22), None),
                  (Stage.AGREEMENT, ReviewStatus.CHANGES_REQUESTED, at(2025, 5, 5), at(2025, 5, 9), None),
                  (Stage.AGREEMENT, ReviewStatus.APPROVED, at(2025, 5, 20), at(2025, 6, 2), None)]),
    # A: submitted just after midnight on New Year's Day, Stockholm time (still 2025 in UTC); waiting, overdue.
    Spec("A", 0, [(Stage.IDENTIFY_NEED, at(2026, 1, 1, 0, 30))],
         reviews=[(Stage.IDENTIFY_NEED, ReviewStatus.PENDING, at(2026, 1, 5), None, at(2026, 1, 10))],
         deadlines=[(DeadlineKind.TRIAGE, DeadlineStatus.MISSED, at(2026, 1, 8)), (DeadlineKind.REVIEW, DeadlineStatus.OPEN, at(2026, 1, 10))]),
    # A: rejected after dialogue; one review withdrawn (not a decision).
    Spec("A", 1, [(Stage.IDENTIFY_NEED, at(2025, 11, 10)), (Stage.DIALOGUE, at(2025, 12, 1)), (Stage.REJECTED, at(2025, 12, 22))],
         reviews=[(Stage.IDENTIFY_NEED, ReviewStatus.APPROVED, at(2025, 11, 20), at(2025, 12, 1), None),
                  (Stage.DIALOGUE, ReviewStatus.CANCELLED, at(2025, 12, 2), at(2025, 12, 5), None),
                  (Stage.DIALOGUE, ReviewStatus.REJECTED, at(2025, 12, 15), at(2025, 12, 22), None)]),
    # A: terminated in follow-up: the instalment after the termination is not paid. No funding in the terms: the
    # requested amount is what was decided.
    Spec("A", 2, [(Stage.IDENTIFY_NEED, at(2025, 2, 3)), (Stage.DIALOGUE, at(2025, 2, 24)), (Stage.AGREEMENT, at(2025, 3, 31)),
                  (Stage.FOLLOW_UP, at(2025, 5, 5)), (Stage.CLOSED, at(2025, 9, 15))],
         terminated=True, requested=250_000, funding=0,
         instalments=[(date(2025, 6, 1), 125_000), (date(2025, 12, 1), 125_000)],
         deadlines=[(DeadlineKind.FOLLOWUP_REPORT, DeadlineStatus.CANCELLED, at(2025, 12, 1))]),
    # B: in dialogue, its stage target passed without a sweep yet (open, past due) and a future one.
    Spec("B", 0, [(Stage.IDENTIFY_NEED, at(2025, 6, 10)), (Stage.DIALOGUE, at(2025, 7, 1))],
         reviews=[(Stage.IDENTIFY_NEED, ReviewStatus.APPROVED, at(2025, 6, 23), at(2025, 7, 1), None)],
         deadlines=[(DeadlineKind.DIALOGUE, DeadlineStatus.OPEN, at(2025, 12, 1)),
                    (DeadlineKind.AGREEMENT_EXPIRY, DeadlineStatus.OPEN, at(2030, 1, 1)),
                    (DeadlineKind.DIALOGUE, DeadlineStatus.SUSPENDED, at(2025, 10, 1))]),
    # B: closed normally after follow-up (2024 submission); all instalments paid.
    Spec("B", 1, [(Stage.IDENTIFY_NEED, at(2024, 9, 2)), (Stage.DIALOGUE, at(2024, 9, 16)), (Stage.AGREEMENT, at(2024, 10, 14)),
                  (Stage.FOLLOW_UP, at(2024, 11, 4)), (Stage.CLOSED, at(2025, 11, 3))],
         funding=150_000, instalments=[(date(2024, 12, 1), 75_000), (date(2025, 6, 1), 75_000)]),
]


@dataclass
class StatsWorld:
    """The departments, users and cases made from SPECS."""

    deps: dict[str, Department]
    officer: User
    approver: User
    officer_b: User
    registrar: User
    admin: User
    member: User
    cases: list[Case]


def build(db: Session) -> StatsWorld:
    """Insert SPECS (and a draft that must not count) with the stage history, reviews, agreements and deadlines."""
    deps = {"A": factories.department(db, name="Statistikförvaltningen A"), "B": factories.department(db, name="Statistikförvaltningen B")}
    orgs = [factories.organisation(db) for _ in range(3)]
    officer = factories.user(db, Role.OFFICER, department=deps["A"])
    approver = factories.user(db, Role.APPROVER, department=deps["A"], delegated_limit_sek=5_000_000)
    officer_b = factories.user(db, Role.OFFICER, department=deps["B"])
    registrar = factories.user(db, Role.REGISTRAR)
    admin = factories.user(db, Role.ADMIN)
    member = factories.user(db, Role.ORG_MEMBER, organisation=orgs[0])
    settings = get_settings()
    cases = []
    for n, s in enumerate(SPECS):
        c = factories.case(db, orgs[s.org], deps[s.dep], stage=s.stage, officer_id=officer.id if s.dep == "A" else officer_b.id,
                           submitted_at=s.submitted, stage_entered_at=s.stages[-1][1], terminated=s.terminated,
                           requested_amount_sek=s.requested, diarienummer=f"{deps[s.dep].diarie_prefix} {day(s.submitted).year}/{n + 1:04d}")
        previous = Stage.DRAFT
        for stage, when in s.stages:
            db.add(StageChange(case_id=c.id, from_stage=previous, to_stage=stage, actor_id=officer.id, at=when))
            previous = stage
        if s.funding is not None:
            db.add(Agreement(case_id=c.id, funding_amount_sek=s.funding,
                             terms={"funding_amount_sek": s.funding,
                                    "instalments": [{"due_on": d.isoformat(), "amount_sek": a} for d, a in s.instalments]}))
        for from_stage, status, requested, decided, due in s.reviews:
            to_stage = {Stage.IDENTIFY_NEED: Stage.DIALOGUE, Stage.DIALOGUE: Stage.AGREEMENT, Stage.AGREEMENT: Stage.FOLLOW_UP}[from_stage]
            db.add(Review(case_id=c.id, from_stage=from_stage, to_stage=to_stage, requested_by_id=officer.id, requested_at=requested,
                          status=status, decided_at=decided, decided_by_id=approver.id if decided else None, due_at=due))
        for kind, status, due in s.deadlines:
            create_deadline(db, c, kind, settings, due_at=due).status = status
        cases.append(c)
    factories.case(db, orgs[2], deps["A"], stage=Stage.DRAFT)  # a draft is the organisation's: not a partnership yet
    db.flush()
    return StatsWorld(deps, officer, approver, officer_b, registrar, admin, member, cases)


def expected(dep: str | None, year: int | None, now: datetime) -> dict:
    """The figures for department 'A'/'B' (None: both) and a year, from SPECS alone."""
    today = day(now)
    specs = [s for s in SPECS if dep is None or s.dep == dep]

    def keep(d: date) -> bool:
        return year is None or d.year == year

    cells: Counter = Counter()
    orgs: dict[int, set] = defaultdict(set)
    decided: Counter = Counter()
    paid: Counter = Counter()
    paid_n: Counter = Counter()
    stays: dict[str, list[int]] = defaultdict(list)
    reviews: dict[str, list[int]] = defaultdict(list)
    late_kinds: Counter = Counter()
    late_reviews = 0
    late_cases = set()
    for n, s in enumerate(specs):
        if keep(day(s.submitted)):
            cells[(day(s.submitted).year, s.stage.value)] += 1
            orgs[day(s.submitted).year].add(s.org)
        entered = dict(s.stages)
        if Stage.FOLLOW_UP in entered:
            in_force = day(entered[Stage.FOLLOW_UP])
            if keep(in_force):
                decided[in_force.year] += s.funding or s.requested
            after = [st for st, _ in s.stages[[st for st, _ in s.stages].index(Stage.FOLLOW_UP) + 1:]]
            end = today
            if after and (after[0] in (Stage.REJECTED, Stage.WITHDRAWN) or s.terminated):
                end = min(today, day(entered[after[0]]))
            for due, amount in s.instalments:
                paid_on = max(due, in_force)
                if paid_on <= end and keep(paid_on):
                    paid[paid_on.year] += amount
                    paid_n[paid_on.year] += 1
        for (stage, a), (_, b) in zip(s.stages, s.stages[1:], strict=False):
            if stage in WORKING and keep(day(b)):
                stays[stage.value].append(CAL.working_days_between(day(a), day(b)))
        for from_stage, status, requested, decided_at, due in s.reviews:
            if status in (ReviewStatus.APPROVED, ReviewStatus.REJECTED, ReviewStatus.CHANGES_REQUESTED) and keep(day(decided_at)):
                reviews[from_stage.value].append(CAL.working_days_between(day(requested), day(decided_at)))
            if status == ReviewStatus.PENDING and due < now and keep(day(due)):
                late_reviews += 1
                late_cases.add(n)
        for kind, status, due in s.deadlines:
            if (status == DeadlineStatus.MISSED or (status == DeadlineStatus.OPEN and due < now)) and keep(day(due)):
                late_kinds[kind.value] += 1
                late_cases.add(n)

    def summary(values: list[int]) -> tuple[int, float | None, float | None]:
        return (len(values), round(sum(values) / len(values), 1) if values else None, float(pystats.median(values)) if values else None)

    return {
        "cells": dict(cells), "total": sum(cells.values()),
        "organisations": len(set().union(*orgs.values())) if orgs else 0,
        "organisations_per_year": {y: len(v) for y, v in orgs.items()},
        "decided": dict(decided), "paid": dict(paid), "paid_n": dict(paid_n),
        "stays": {k: summary(v) for k, v in stays.items()},
        "reviews": {k: summary(v) for k, v in reviews.items()},
        "all_reviews": summary([v for vs in reviews.values() for v in vs]),
        "late_kinds": dict(late_kinds), "late_reviews": late_reviews, "late_cases": len(late_cases),
    }
