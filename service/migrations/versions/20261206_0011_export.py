"""export: e-archive export jobs (archive_exports) and one package per case (archive_export_items)

Revision ID: 0011_export
Revises: 0010_diarium
Create Date: 2026-12-06 20:45:00.000000

archive_exports: who asked, when, the period asked for (if any), status and the Prefect flow run that writes the
packages. archive_export_items: one per case, with the package's object key, version, size and sha256 once written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0011_export'
down_revision: str | None = '0010_diarium'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_exports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("requested_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("requested_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("closed_from", sa.Date(), nullable=True),
        sa.Column("closed_to", sa.Date(), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", service.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "archive_export_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("export_id", sa.Integer(), sa.ForeignKey("archive_exports.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("objid", sa.String(length=64), nullable=True),
        sa.Column("object_key", sa.String(length=500), nullable=True),
        sa.Column("object_version_id", sa.String(length=200), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("files", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("export_id", "case_id", name="uq_archive_export_items_export_case"),
    )
    op.create_index("ix_archive_export_items_export_id", "archive_export_items", ["export_id"])


def downgrade() -> None:
    op.drop_index("ix_archive_export_items_export_id", table_name="archive_export_items")
    op.drop_table("archive_export_items")
    op.drop_table("archive_exports")
