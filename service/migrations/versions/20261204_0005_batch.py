"""reminder sent-log for batched delivery

Revision ID: 0005_batch
Revises: 0004
Create Date: 2026-12-04 02:00:00.000000

reminder_deliveries: the sweep sends reminders in batches over one SMTP connection and commits one
row here the moment the server accepted a message; the batch then marks its reminders sent from
these rows and deletes them. A crash mid-batch leaves the rows, and the next sweep marks those
reminders sent instead of sending them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0005_batch'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_deliveries",
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("accepted_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reminder_id"], ["reminders.id"], name=op.f("fk_reminder_deliveries_reminder_id_reminders"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("reminder_id", name=op.f("pk_reminder_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("reminder_deliveries")
