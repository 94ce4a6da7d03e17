"""review comments the organisation does not see; reminders that gave up

Revision ID: 0005_rules
Revises: 0004
Create Date: 2026-12-04 01:20:00.000000

reviews.comment_internal: the requester's comment to the approver may be marked internal; the
organisation then sees that a decision was requested, not the comment. agreements.version and
suitability_assessments.version: optimistic locks. reminders.first_failed_at, .gave_up_at: a
reminder is retried with backoff for days, then given up (visible in /ready and to admins, who can
send it again).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0005_rules'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("comment_internal", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Optimistic locks for the two forms two people may have open at once (lost updates, issue 22).
    for table in ("agreements", "suitability_assessments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("first_failed_at", service.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("gave_up_at", service.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ("agreements", "suitability_assessments"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("gave_up_at")
        batch.drop_column("first_failed_at")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("comment_internal")
