"""Bulk seeding of the benchmark database: departments, organisations, users, cases, deadlines, reviews.

Cases, deadlines and reviews are written with PostgreSQL COPY (about 100k cases in a few
seconds); the small base tables go through the ORM. Every case row is complete (need,
target group, activities, contributions, period) so API responses have a realistic size.

Deadlines follow the cases' stages. The *due set* (reminders whose time has come) and the
*missed set* (open deadlines past due) are placed in the first batch only, so a database
grown from 10k to 100k cases has exactly the same amount of due work.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from stdnum import luhn
from stdnum.se import orgnr as se_orgnr

from service.auth.models import Role, User
from service.auth.security import hash_password
from service.cases.stages import Stage
from service.config import get_settings
from service.deadlines.calendar import calendar_for
from service.deadlines.models import Deadline, DeadlineKind, DeadlineStatus
from service.deadlines.policy import policy_for
from service.deadlines.rules import reminder_times
from service.departments.models import Department
from service.organisations.models import LegalForm, Organisation

N_DEPARTMENTS = 8
N_ORGANISATIONS = 2000
OFFICERS_PER_DEPARTMENT = 4
BENCH_PASSWORD = "bench-lösenord-2026"

# Share of cases per stage (sums to 1).
STAGE_WEIGHTS = [
    (Stage.DRAFT, 0.10), (Stage.IDENTIFY_NEED, 0.15), (Stage.DIALOGUE, 0.25), (Stage.AGREEMENT, 0.15),
    (Stage.FOLLOW_UP, 0.15), (Stage.CLOSED, 0.10), (Stage.REJECTED, 0.05), (Stage.WITHDRAWN, 0.05),
]
STAGE_KIND = {
    Stage.IDENTIFY_NEED: DeadlineKind.TRIAGE,
    Stage.DIALOGUE: DeadlineKind.DIALOGUE,
    Stage.AGREEMENT: DeadlineKind.AGREEMENT_SIGNATURE,
    Stage.FOLLOW_UP: DeadlineKind.FOLLOWUP_REPORT,
}
TERMINAL = {Stage.CLOSED, Stage.REJECTED, Stage.WITHDRAWN}

TITLES = ["Mötesplats för äldre", "Läxhjälp och mentorskap", "Stödboende för våldsutsatta", "Feriejobb för unga",
          "Språkcafé för nyanlända", "Aktiviteter på sportlovet", "Kvinnojour dygnet runt", "Fritidsgård i Norrby",
          "Anhörigstöd vid demens", "Matkasse och social gemenskap"]
NEEDS = [
    "Många äldre i området är ofrivilligt ensamma och saknar mötesplatser dagtid; behovet har identifierats "
    "gemensamt av förvaltningen och föreningen under dialogmöten 2025 och bekräftats av hemtjänstens iakttagelser.",
    "Barn i årskurs 4–9 i Söderby saknar stöd med läxor hemma; skolornas elevhälsa och föreningen ser samma behov "
    "och vill tillsammans erbjuda en trygg plats med vuxna förebilder efter skoltid tre dagar i veckan.",
    "Våldsutsatta kvinnor och deras barn behöver skyddat boende och stöd som den offentliga verksamheten inte kan "
    "erbjuda på egen hand; föreningen har lång erfarenhet och ett förtroende hos målgruppen som kommunen saknar.",
]
ACTIVITIES = ("Träffpunkt tre dagar i veckan, telefonkedja, utflykter en gång i månaden, studiecirklar och "
              "gemensamma måltider. Volontärer rekryteras och utbildas av föreningen; kommunen bidrar med lokal "
              "och med ett verksamhetsbidrag. Uppföljning sker halvårsvis i styrgruppen.")


def make_orgnr(n: int) -> str:
    """A valid, unique organisationsnummer for n < 8,000,000 (Luhn, digits 3–4 >= 20)."""
    body = f"80{20 + n % 80:02d}{n // 80 % 100000:05d}"
    return se_orgnr.format(body + luhn.calc_check_digit(body))


@dataclass
class World:
    """Ids of the base rows the cases refer to."""

    departments: list[tuple[int, str]] = field(default_factory=list)  # (id, prefix)
    organisations: list[int] = field(default_factory=list)
    officers: dict[int, list[int]] = field(default_factory=dict)  # department id -> officer ids
    approvers: dict[int, list[int]] = field(default_factory=dict)
    members: dict[int, int] = field(default_factory=dict)  # organisation id -> member id
    emails: dict[int, str] = field(default_factory=dict)  # civil servant id -> e-mail
    registrar_id: int = 0


@dataclass
class SeedStats:
    """What a batch wrote."""

    cases: int = 0
    deadlines: int = 0
    reviews: int = 0
    reminders: int = 0
    history_missed: int = 0
    due_deadlines: int = 0
    missed_deadlines: int = 0
    seconds: float = 0.0


class Seeder:
    """Writes cases in batches; the first batch carries the due and missed deadlines."""

    def __init__(self, engine: Engine, now: datetime | None = None, rng_seed: int = 20261123) -> None:
        self.engine = engine
        self.now = now or datetime.now(UTC)
        self.rng = random.Random(rng_seed)
        self.world = World()
        self.next_case_id = 1
        self.next_deadline_id = 1
        self.next_review_id = 1
        self.next_reminder_id = 1
        self.diarie_seq: dict[tuple[str, int], int] = {}
        self.cal = calendar_for(get_settings().timezone)
        # Cases span six years, oldest first; ids grow with created_at like in a live system.
        self.epoch = self.now - timedelta(days=6 * 365)

    # ------------------------------------------------------------------ base rows

    def base(self) -> World:
        """Departments, organisations and one account per role (officers and approvers per department)."""
        pw = hash_password(BENCH_PASSWORD)
        w = self.world
        with Session(self.engine) as s, s.begin():
            deps = [Department(name=f"Förvaltning {i + 1}", diarie_prefix=f"B{i + 1:02d}", municipality="Benchstads kommun",
                               municipality_orgnr="212000-0142") for i in range(N_DEPARTMENTS)]
            s.add_all(deps)
            orgs = [Organisation(name=f"Föreningen Bänk {i + 1}", orgnr=make_orgnr(i + 1), legal_form=LegalForm.IDEELL_FORENING,
                                 purpose="Allmännyttig verksamhet för boende i kommunen.", street_address=f"Storgatan {i % 90 + 1}",
                                 postal_code="123 45", city="Benchstad") for i in range(N_ORGANISATIONS)]
            s.add_all(orgs)
            s.flush()
            users: list[User] = []
            for d in deps:
                head = User(email=f"chef.{d.diarie_prefix.lower()}@bench.example.se", full_name=f"Chef {d.name}", role=Role.APPROVER,
                            title="Förvaltningschef", password_hash=pw, department_id=d.id, delegated_limit_sek=50_000_000)
                s.add(head)
                s.flush()
                approver = User(email=f"beslut.{d.diarie_prefix.lower()}@bench.example.se", full_name=f"Enhetschef {d.name}",
                                role=Role.APPROVER, title="Enhetschef", password_hash=pw, department_id=d.id,
                                delegated_limit_sek=5_000_000, manager_id=head.id)
                officers = [User(email=f"handl{k + 1}.{d.diarie_prefix.lower()}@bench.example.se", full_name=f"Handläggare {k + 1} {d.name}",
                                 role=Role.OFFICER, title="Handläggare", password_hash=pw, department_id=d.id)
                            for k in range(OFFICERS_PER_DEPARTMENT)]
                s.add_all([approver, *officers])
                s.flush()
                w.departments.append((d.id, d.diarie_prefix))
                w.approvers[d.id] = [approver.id, head.id]
                w.officers[d.id] = [o.id for o in officers]
                w.emails.update({u.id: u.email for u in (head, approver, *officers)})
            for o in orgs:
                users.append(User(email=f"medlem{o.id}@forening.bench.example.se", full_name=f"Medlem {o.name}", role=Role.ORG_MEMBER,
                                  password_hash=pw, organisation_id=o.id))
            registrar = User(email="registrator@bench.example.se", full_name="Rut Registrator", role=Role.REGISTRAR, password_hash=pw)
            s.add_all([*users, registrar, User(email="admin@bench.example.se", full_name="Admin", role=Role.ADMIN, password_hash=pw)])
            s.flush()
            w.organisations = [o.id for o in orgs]
            w.members = {u.organisation_id: u.id for u in users}
            w.registrar_id = registrar.id
        return w

    # ------------------------------------------------------------------ cases

    def _stage(self) -> Stage:
        x = self.rng.random()
        acc = 0.0
        for stage, weight in STAGE_WEIGHTS:
            acc += weight
            if x < acc:
                return stage
        return STAGE_WEIGHTS[-1][0]

    def _diarienummer(self, prefix: str, at: datetime) -> str:
        key = (prefix, at.year)
        self.diarie_seq[key] = self.diarie_seq.get(key, 0) + 1
        return f"{prefix} {at.year}/{self.diarie_seq[key]:04d}"

    def add_cases(self, count: int, *, due: int = 0, missed: int = 0, total_planned: int | None = None) -> SeedStats:
        """Append `count` cases with their deadlines; `due` reminders fall due now, `missed` deadlines are past due."""
        import time

        started = time.perf_counter()
        total = total_planned or count
        span = (self.now - timedelta(days=1) - self.epoch) / max(total, 1)
        rng = self.rng
        w = self.world
        cases: list[tuple[Any, ...]] = []
        deadlines: list[tuple[Any, ...]] = []
        reviews: list[tuple[Any, ...]] = []
        reminders: list[tuple[Any, ...]] = []
        stats = SeedStats()
        # Due set, in reminders: half dialogue (the officer), a quarter agreement signatures (the officer and the
        # organisation's one member: two per deadline), a quarter review decisions (the approver).
        want = {"dialogue": due // 2, "agreement": due // 8, "review": due - due // 2 - 2 * (due // 8), "missed": missed}
        for _ in range(count):
            cid = self.next_case_id
            self.next_case_id += 1
            dep_id, prefix = w.departments[rng.randrange(len(w.departments))]
            org_id = w.organisations[rng.randrange(len(w.organisations))]
            stage = self._stage()
            created = self.epoch + span * (cid - 1)
            submitted = None if stage == Stage.DRAFT else created + timedelta(hours=2)
            stage_entered = created + timedelta(days=rng.randint(0, 20)) if stage != Stage.DRAFT else created
            officer_id = None
            if stage not in (Stage.DRAFT, Stage.WITHDRAWN) and (stage != Stage.IDENTIFY_NEED or rng.random() < 0.5):
                officer_id = rng.choice(w.officers[dep_id])
            amount = rng.randrange(50, 2000) * 1000
            start = date(created.year + 1, 1, 1)
            cases.append((
                cid, None if stage == Stage.DRAFT else self._diarienummer(prefix, created),
                f"{TITLES[cid % len(TITLES)]} {cid}", org_id, dep_id, officer_id, w.members.get(org_id),
                NEEDS[cid % len(NEEDS)], "Personer över 70 år och deras anhöriga i stadsdelen.", ACTIVITIES,
                rng.randrange(0, 200) * 1000, "Ideella timmar, lokal och administration", rng.randrange(100, 3000), amount,
                start, date(start.year + 1, 12, 31), stage.value, False, False,
                "Avslutad enligt plan" if stage in TERMINAL else None, False, 1,
                created, stage_entered, submitted, stage_entered,
            ))
            stats.cases += 1
            kind = STAGE_KIND.get(stage)
            if officer_id and (stage in TERMINAL or stage == Stage.FOLLOW_UP):
                stats.history_missed += self._history(deadlines, reminders, cid, officer_id, created)
            if stage in TERMINAL:
                self._deadline(deadlines, cid, DeadlineKind.AGREEMENT_SIGNATURE, created + timedelta(days=120),
                               DeadlineStatus.MET if stage == Stage.CLOSED else DeadlineStatus.CANCELLED, None, created)
                continue
            if kind is None:
                continue  # drafts have no deadlines yet
            review_id = None
            if officer_id and stage == Stage.DIALOGUE and want["missed"] > 0:
                want["missed"] -= 1
                stats.missed_deadlines += 1
                due_at = self.now - timedelta(hours=rng.randint(2, 72))
                self._deadline(deadlines, cid, kind, due_at, DeadlineStatus.OPEN, None, stage_entered)
                continue
            if officer_id and stage == Stage.DIALOGUE and want["dialogue"] > 0:
                want["dialogue"] -= 1
                self._due(deadlines, cid, kind, stage_entered)
                stats.due_deadlines += 1
                continue
            if officer_id and stage == Stage.AGREEMENT and want["agreement"] > 0:
                want["agreement"] -= 1
                self._due(deadlines, cid, kind, stage_entered)
                stats.due_deadlines += 1
                continue
            if officer_id and stage == Stage.DIALOGUE and want["review"] > 0:
                want["review"] -= 1
                review_id = self._review(reviews, cid, stage, officer_id, w.approvers[dep_id][0], created)
                self._due(deadlines, cid, DeadlineKind.DIALOGUE, stage_entered, not_due=True)
                self._due(deadlines, cid, DeadlineKind.REVIEW, stage_entered, review_id=review_id)
                stats.due_deadlines += 1
                continue
            # Everything else is open but not due for weeks.
            due_at = self.now + timedelta(days=40 + rng.randrange(0, 400), minutes=rng.randrange(0, 1440))
            self._deadline(deadlines, cid, kind, due_at, DeadlineStatus.OPEN, due_at - timedelta(days=35), stage_entered)
            if officer_id and stage in (Stage.IDENTIFY_NEED, Stage.DIALOGUE) and rng.random() < 0.04:
                rid = self._review(reviews, cid, stage, officer_id, w.approvers[dep_id][0], created)
                self._deadline(deadlines, cid, DeadlineKind.REVIEW, due_at - timedelta(days=20), DeadlineStatus.OPEN,
                               due_at - timedelta(days=25), stage_entered, review_id=rid)
        if any(v > 0 for v in want.values()):
            raise RuntimeError(f"batch too small for the requested due/missed deadlines, still missing {want}")
        self._copy(cases, deadlines, reviews, reminders)
        stats.deadlines, stats.reviews, stats.reminders = len(deadlines), len(reviews), len(reminders)
        stats.seconds = time.perf_counter() - started
        return stats

    def _history(self, deadlines: list, reminders: list, cid: int, officer_id: int, created: datetime) -> int:
        """Deadlines of stages the case has passed, each with its sent reminder; some were missed and escalated."""
        missed = 0
        for k, kind in enumerate((DeadlineKind.TRIAGE, DeadlineKind.DIALOGUE)):
            due_at = created + timedelta(days=7 + 60 * k)
            if kind == DeadlineKind.DIALOGUE and self.rng.random() < 0.08:
                self._deadline(deadlines, cid, kind, due_at, DeadlineStatus.MISSED, None, created, escalated_at=due_at + timedelta(days=1))
                missed += 1
            else:
                self._deadline(deadlines, cid, kind, due_at, DeadlineStatus.MET, None, created)
            did = self.next_deadline_id - 1
            email = self.world.emails[officer_id]
            at = due_at - timedelta(days=2)
            reminders.append((self.next_reminder_id, did, email, officer_id, "email", "d-2", at, at + timedelta(minutes=3),
                              f"{self.next_reminder_id:08d}-0000-4000-8000-000000000000", f"<{did}.bench@iop.localhost>", 1,
                              f"{did}:{email}:d-2"))
            self.next_reminder_id += 1
        return missed

    def _review(self, reviews: list, cid: int, stage: Stage, requested_by: int, approver: int, created: datetime) -> int:
        rid = self.next_review_id
        self.next_review_id += 1
        to_stage = Stage.AGREEMENT if stage == Stage.DIALOGUE else Stage.DIALOGUE
        reviews.append((rid, cid, stage.value, to_stage.value, requested_by, created + timedelta(days=3), "Klart för beslut",
                        approver, self.now + timedelta(days=2), "pending"))
        return rid

    def _due(self, deadlines: list, cid: int, kind: DeadlineKind, created: datetime, *, review_id: int | None = None,
             not_due: bool = False) -> None:
        """A deadline two days ahead whose (policy) reminder time has passed: exactly one reminder is due."""
        if not_due:
            due_at = self.now + timedelta(days=45)
            self._deadline(deadlines, cid, kind, due_at, DeadlineStatus.OPEN, due_at - timedelta(days=7), created)
            return
        due_at = self.now + timedelta(days=2, minutes=self.rng.randrange(0, 600))
        pol = policy_for(kind, None)
        probe = Deadline(due_at=due_at, reminder_offsets=pol.get("reminders", []))
        times = reminder_times(self.cal, probe)
        if not times or times[0][1] > self.now:
            raise RuntimeError(f"{kind}: no reminder due two days before the deadline")
        self._deadline(deadlines, cid, kind, due_at, DeadlineStatus.OPEN, times[0][1], created, review_id=review_id)

    def _deadline(self, deadlines: list, cid: int, kind: DeadlineKind, due_at: datetime, status: DeadlineStatus,
                  next_reminder_at: datetime | None, created: datetime, *, review_id: int | None = None,
                  escalated_at: datetime | None = None) -> None:
        pol = policy_for(kind, None)
        did = self.next_deadline_id
        self.next_deadline_id += 1
        deadlines.append((
            did, cid, kind.value, due_at, due_at, status.value, json.dumps(pol.get("reminders", [])), pol.get("escalation"),
            json.dumps(pol.get("escalation_delay")), escalated_at, next_reminder_at if status == DeadlineStatus.OPEN else None,
            escalated_at, review_id, None, f"{kind.value} {cid}", due_at if status == DeadlineStatus.MET else None,
            due_at if status == DeadlineStatus.MISSED else None, created,
        ))

    def _copy(self, cases: list, deadlines: list, reviews: list, reminders: list) -> None:
        raw = self.engine.raw_connection()
        try:
            with raw.cursor() as cur:
                with cur.copy(
                    "COPY cases (id, diarienummer, title, organisation_id, department_id, officer_id, created_by_id, need, target_group,"
                    " planned_activities, own_contribution_sek, own_contribution_in_kind, volunteer_hours, requested_amount_sek,"
                    " period_start, period_end, stage, open_for_changes, suspended, close_reason, terminated, version,"
                    " created_at, updated_at, submitted_at, stage_entered_at) FROM STDIN"
                ) as cp:
                    for row in cases:
                        cp.write_row(row)
                with cur.copy(
                    "COPY reviews (id, case_id, from_stage, to_stage, requested_by_id, requested_at, comment, approver_id, due_at, status)"
                    " FROM STDIN"
                ) as cp:
                    for row in reviews:
                        cp.write_row(row)
                with cur.copy(
                    "COPY deadlines (id, case_id, kind, due_at, original_due_at, status, reminder_offsets, escalation_target,"
                    " escalation_delay, escalated_at, next_reminder_at, escalate_at, review_id, followup_report_id, label,"
                    " met_at, missed_at, created_at) FROM STDIN"
                ) as cp:
                    for row in deadlines:
                        cp.write_row(row)
                with cur.copy(
                    "COPY reminders (id, deadline_id, recipient, recipient_user_id, channel, offset_key, scheduled_for, sent_at,"
                    " token, message_id, attempts, dedupe_key) FROM STDIN"
                ) as cp:
                    for row in reminders:
                        cp.write_row(row)
                for table in ("cases", "reviews", "deadlines", "reminders"):
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
            raw.commit()
        finally:
            raw.close()
        raw = self.engine.raw_connection()
        try:
            # VACUUM needs autocommit, and no transaction open on the connection.
            raw.rollback()
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute("VACUUM ANALYZE cases, deadlines, reviews, reminders")
            raw.driver_connection.autocommit = False
        finally:
            raw.close()
