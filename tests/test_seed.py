"""The demo seed covers every stage and role, and its audit chains verify."""

from __future__ import annotations

from sqlalchemy import select

from service.audit.models import AuditEvent
from service.audit.service import verify
from service.auth.models import Role, User
from service.auth.security import verify_password
from service.cases.models import Case
from service.cases.stages import Stage
from service.seed import DEMO_PASSWORD, seed


def test_seed_covers_every_stage_and_role(db) -> None:
    accounts = seed(db)
    assert {Role(r) for r, _, _ in accounts} == set(Role)
    assert {c.stage for c in db.scalars(select(Case))} == set(Stage)
    assert len({c.organisation_id for c in db.scalars(select(Case))}) == 3
    assert all(verify_password(u.password_hash, DEMO_PASSWORD) for u in db.scalars(select(User)))
    streams = set(db.scalars(select(AuditEvent.stream).distinct()))
    assert streams and all(verify(db, s).valid for s in streams)
    numbers = sorted(c.diarienummer for c in db.scalars(select(Case).where(Case.diarienummer.is_not(None))))
    assert numbers == [f"SOC {numbers[0][4:8]}/{i:04d}" for i in range(1, len(numbers) + 1)]
