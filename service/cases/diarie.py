"""Diarienummer `<PREFIX> <YEAR>/<SEQ:04d>`: unique and gap-free per prefix and year."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.cases.models import DiarieCounter


def format_diarienummer(prefix: str, year: int, seq: int) -> str:
    """E.g. SOC 2026/0007."""
    return f"{prefix} {year}/{seq:04d}"


def next_diarienummer(session: Session, prefix: str, at: datetime, tz: str = "Europe/Stockholm") -> str:
    """Take the next number in the caller's transaction.

    The upsert locks the counter row until commit, so concurrent submissions queue and a
    rolled-back submission gives its number back: no duplicates and no gaps.
    """
    year = at.astimezone(ZoneInfo(tz)).year
    table = DiarieCounter.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(table)
        .values(prefix=prefix, year=year, value=1)
        .on_conflict_do_update(index_elements=[table.c.prefix, table.c.year], set_={"value": table.c.value + 1})
        .returning(table.c.value)
    )
    seq = session.execute(stmt).scalar_one()
    return format_diarienummer(prefix, year, seq)
