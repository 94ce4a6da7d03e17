"""diarium: a diary entry per allmän handling of a case, numbered within the case's diarienummer

Revision ID: 0010_diarium
Revises: 0009
Create Date: 2026-12-04 20:45:00.000000

diary_entries: löpnummer per case (unique with the case), date, direction, counterpart, description, handlingstyp,
sekretess with its OSL reference, and the source it registers (document, message or review decision).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0010_diarium'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "diary_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(length=12), nullable=False),
        sa.Column("counterpart", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("document_type", sa.String(length=80), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("osl_reference", sa.String(length=120), nullable=True),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("reviews.id"), nullable=True),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("case_id", "number", name="uq_diary_entries_case_number"),
    )
    op.create_index("ix_diary_entries_entry_date", "diary_entries", ["entry_date"])


def downgrade() -> None:
    op.drop_index("ix_diary_entries_entry_date", table_name="diary_entries")
    op.drop_table("diary_entries")
