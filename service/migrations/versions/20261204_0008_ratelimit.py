"""rate-limit counts shared by every API process

Revision ID: 0008_ratelimit
Revises: 0007
Create Date: 2026-12-04 19:50:00.000000

rate_limit_events: one row per counted attempt under its key (failed logins per e-mail and address, per address;
registrations and reset requests per address), so several uvicorn workers or hosts share one budget (issue 18).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_ratelimit'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rate_limit_events_key_at", "rate_limit_events", ["key", "at"])
    op.create_index("ix_rate_limit_events_at", "rate_limit_events", ["at"])


def downgrade() -> None:
    op.drop_table("rate_limit_events")
