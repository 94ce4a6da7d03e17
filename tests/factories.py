"""Factories for test data: real rows, unique per call."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from stdnum import luhn
from stdnum.se import orgnr as se_orgnr

from service.auth.models import Role, User
from service.auth.security import create_token, hash_password
from service.cases.models import Case
from service.cases.stages import Stage
from service.config import get_settings
from service.db import utcnow
from service.departments.models import Department
from service.organisations.models import LegalForm, Organisation

PASSWORD = "hemligt-lösen-123"
_HASH = hash_password(PASSWORD)  # hashed once: argon2 is deliberately slow
_seq = itertools.count(1)


def _letters(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 26)
        out = chr(ord("A") + r) + out
        if n == 0:
            return out
        n -= 1


def make_orgnr(n: int | None = None) -> str:
    """A valid organisationsnummer (Luhn, digits 3–4 ≥ 20), unique per n."""
    n = next(_seq) if n is None else n
    body = f"80{20 + n % 80:02d}{n // 80 % 100000:05d}"
    return se_orgnr.format(body + luhn.calc_check_digit(body))


def department(db: Session, **kw: Any) -> Department:
    """A department with a unique prefix."""
    n = next(_seq)
    dep = Department(name=kw.pop("name", f"Socialförvaltning {n}"), diarie_prefix=kw.pop("diarie_prefix", "T" + _letters(n)), **kw)
    db.add(dep)
    db.flush()
    return dep


def organisation(db: Session, **kw: Any) -> Organisation:
    """An ideell förening with a valid, unique orgnr."""
    n = next(_seq)
    org = Organisation(
        name=kw.pop("name", f"Föreningen Gemenskap {n}"),
        orgnr=kw.pop("orgnr", make_orgnr(n)),
        legal_form=kw.pop("legal_form", LegalForm.IDEELL_FORENING),
        purpose=kw.pop("purpose", "Motverka ofrivillig ensamhet bland äldre."),
        city=kw.pop("city", "Exempelstad"),
        # As if registered by the municipality's staff; verified_at=None for a self-registered one.
        verified_at=kw.pop("verified_at", utcnow()),
        **kw,
    )
    db.add(org)
    db.flush()
    return org


def user(db: Session, role: Role, *, organisation: Organisation | None = None, department: Department | None = None, **kw: Any) -> User:
    """A user of the role, attached to an organisation or department as the role needs."""
    n = next(_seq)
    u = User(
        email=kw.pop("email", f"{role.value}{n}@example.se"),
        full_name=kw.pop("full_name", f"Person {n} ({role.value})"),
        role=role,
        password_hash=_HASH,
        organisation_id=organisation.id if organisation else None,
        department_id=department.id if department else None,
        **kw,
    )
    db.add(u)
    db.flush()
    return u


def auth(u: User) -> dict[str, str]:
    """Bearer header for a user."""
    token, _ = create_token(u.id, u.role, get_settings(), u.token_generation or 0)
    return {"Authorization": f"Bearer {token}"}


COMPLETE = dict(
    need="Många äldre i området är ofrivilligt ensamma.",
    target_group="Personer över 70 år i Norrby.",
    planned_activities="Träffpunkt tre dagar i veckan, telefonkedja, utflykter.",
    own_contribution_sek=50_000,
    own_contribution_in_kind="Ideella timmar och lokal",
    volunteer_hours=800,
    requested_amount_sek=400_000,
    period_start=date(2027, 1, 1),
    period_end=date(2028, 12, 31),
)


def case(db: Session, org: Organisation, dep: Department, *, stage: Stage = Stage.DRAFT, complete: bool = True, **kw: Any) -> Case:
    """A case placed directly in a stage (API tests walk the stages themselves)."""
    n = next(_seq)
    fields = {**(COMPLETE if complete else {}), **kw}
    c = Case(
        title=fields.pop("title", f"Mötesplats för äldre {n}"),
        organisation_id=org.id,
        department_id=dep.id,
        stage=stage,
        diarienummer=fields.pop("diarienummer", None if stage == Stage.DRAFT else f"{dep.diarie_prefix} 2026/{n:04d}"),
        **fields,
    )
    db.add(c)
    db.flush()
    return c


class World:
    """A department with every role, an organisation with a member, and a second organisation."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.dep = department(db)
        self.org = organisation(db)
        self.other_org = organisation(db)
        self.member = user(db, Role.ORG_MEMBER, organisation=self.org)
        self.other_member = user(db, Role.ORG_MEMBER, organisation=self.other_org)
        self.officer = user(db, Role.OFFICER, department=self.dep)
        self.officer2 = user(db, Role.OFFICER, department=self.dep)
        self.approver = user(db, Role.APPROVER, department=self.dep, delegated_limit_sek=1_000_000)
        self.approver2 = user(db, Role.APPROVER, department=self.dep, delegated_limit_sek=5_000_000)
        self.small_approver = user(db, Role.APPROVER, department=self.dep, delegated_limit_sek=100_000)
        self.registrar = user(db, Role.REGISTRAR)
        self.admin = user(db, Role.ADMIN)
