"""retention: gallring decisions and their items; documents and diary entries record that they were gallrade

Revision ID: 0011_archive
Revises: 0010_diarium
Create Date: 2026-12-06 20:45:00.000000

disposal_decisions: a list of due handlingar (proposed by the gallring flow or a registrar), who approved it and when,
when it was executed. disposal_items: one document version each, the rule and closure date that made it due, and what
became of its object (waiting under lock until, gallrad at). documents and diary_entries gain disposed_at and
disposal_decision_id: the row and the diary entry stay when the object is deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0011_archive'
down_revision: str | None = '0010_diarium'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disposal_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("approved_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("executed_at", service.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_disposal_decisions_status", "disposal_decisions", ["status"])
    op.create_table(
        "disposal_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("disposal_decisions.id"), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("document_type", sa.String(length=80), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("closed_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("locked_until", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disposed_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("decision_id", "document_id", name="uq_disposal_items_decision_document"),
    )
    op.create_index("ix_disposal_items_document", "disposal_items", ["document_id"])
    op.create_index("ix_disposal_items_case_id", "disposal_items", ["case_id"])
    for table in ("documents", "diary_entries"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("disposed_at", service.db.UTCDateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column("disposal_decision_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(f"fk_{table}_disposal_decision_id", "disposal_decisions", ["disposal_decision_id"], ["id"])


def downgrade() -> None:
    for table in ("diary_entries", "documents"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_disposal_decision_id", type_="foreignkey")
            batch.drop_column("disposal_decision_id")
            batch.drop_column("disposed_at")
    op.drop_index("ix_disposal_items_case_id", table_name="disposal_items")
    op.drop_index("ix_disposal_items_document", table_name="disposal_items")
    op.drop_table("disposal_items")
    op.drop_index("ix_disposal_decisions_status", table_name="disposal_decisions")
    op.drop_table("disposal_decisions")
