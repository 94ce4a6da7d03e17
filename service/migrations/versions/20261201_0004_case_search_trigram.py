"""case search by trigram index: GET /cases?q= without a table scan on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 13:00:00.000000

`q=` matches title and diarienummer with ILIKE '%…%', which no b-tree can answer: a scan of the
cases the user may see (25–90 ms at 100k cases in bench/). pg_trgm GIN indexes answer it by index.
pg_trgm is a trusted extension (PostgreSQL 13+), so the database owner may create it; where that is
refused, the migration goes on without the two indexes (search works, only slower) and says so.
SQLite has no such index; its search stays a scan (the embedded default holds one municipality's cases).
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# index -> column, as of this revision (service.cases.models.SEARCH_INDEXES names the same ones today).
SEARCH_INDEXES = {"ix_cases_title_trgm": "title", "ix_cases_diarienummer_trgm": "diarienummer"}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():  # a refusal must not abort the migration's transaction
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        log.warning("pg_trgm kan inte skapas; sökning utan index / cannot create pg_trgm, search stays a scan: %s", exc.orig)
        return
    for name, column in SEARCH_INDEXES.items():
        op.create_index(name, "cases", [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in SEARCH_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")  # the extension stays: other objects may use it
