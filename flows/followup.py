"""followup_schedule: when an agreement enters into force, create its report and payment deadlines."""

from __future__ import annotations

from prefect import flow

from flows.runtime import session_factory
from service.config import get_settings
from service.deadlines.rules import schedule_followup


@flow(name="followup_schedule")
async def followup_schedule(case_id: int) -> int:
    """Create follow-up report deadlines, instalment reminders and the expiry warning (idempotent)."""
    with session_factory()() as s, s.begin():
        return schedule_followup(s, case_id, get_settings())
