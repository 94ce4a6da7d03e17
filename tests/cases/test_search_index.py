"""Text search q= on PostgreSQL is answered by the pg_trgm indexes of migration 0004, and the migration reverses."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.dialects import postgresql

from service.auth.models import Role
from service.cases import repository
from service.cases.models import SEARCH_INDEXES
from service.deps import Principal
from service.migrate import alembic_config

pg_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def _indexes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'cases'")).scalars())


@pg_only
def test_the_search_statement_can_use_the_trigram_indexes(engine: Engine) -> None:
    """The exact statement the API builds for q= (ILIKE on title and diarienummer) is one the indexes answer."""
    registrar = Principal(1, Role.REGISTRAR, None, None)
    stmt, _ = repository.summaries_statement(registrar, repository.CaseFilter(q="ingen träff"), sort="-created_at", cursor=None, limit=25)
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn, conn.begin():
        # An empty test table would be scanned (or walked in created_at order); leave the planner only bitmap scans.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_indexscan = off"))
        plan = "\n".join(conn.execute(text(f"EXPLAIN {sql}")).scalars())
    assert all(name in plan for name in SEARCH_INDEXES), plan


@pg_only
def test_migration_0004_goes_down_and_up(fresh_engine: Engine) -> None:
    url = fresh_engine.url.render_as_string(hide_password=False)
    assert set(SEARCH_INDEXES) <= _indexes(fresh_engine)
    command.downgrade(alembic_config(url), "0003")
    assert not set(SEARCH_INDEXES) & _indexes(fresh_engine)
    command.upgrade(alembic_config(url), "head")
    assert set(SEARCH_INDEXES) <= _indexes(fresh_engine)
