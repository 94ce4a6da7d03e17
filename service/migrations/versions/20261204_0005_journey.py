"""notification settings per user, officers' completion requests

Revision ID: 0005_journey
Revises: 0004
Create Date: 2026-12-04 02:30:00.000000

notification_settings: whether a user gets e-mail besides the in-app notification (no row: both).
completion_requests: an officer's own request that the organisation complete a case, with its message.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0005_journey'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("updated_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notification_settings_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
    )
    op.create_table(
        "completion_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("requested_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_completion_requests_case_id_cases")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_completion_requests_requested_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion_requests")),
    )
    op.create_index(op.f("ix_completion_requests_case_id"), "completion_requests", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_completion_requests_case_id"), table_name="completion_requests")
    op.drop_table("completion_requests")
    op.drop_table("notification_settings")
