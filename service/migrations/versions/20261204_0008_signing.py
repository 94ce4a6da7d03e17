"""signing orders and invitations (PAdES signatures of agreements)

Revision ID: 0008_signing
Revises: 0007
Create Date: 2026-12-04 19:40:00.000000

signing_orders: an agreement version (the generated .docx) as a PDF/A with a signature page, sent for signature;
signing_invitations: each named signatory in turn, with when they signed, the sha256 of the PDF they signed and
the signed PDF stored after their signature.
"""

from collections.abc import Sequence

import sqlalchemy as sa

import service.db
from alembic import op

revision: str = '0008_signing'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signing_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("source_document_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("signed_document_id", sa.Integer(), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("provider_ref", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_signing_orders_case_id_cases")),
        sa.ForeignKeyConstraint(["source_document_id"], ["documents.id"], name=op.f("fk_signing_orders_source_document_id_documents")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_signing_orders_document_id_documents")),
        sa.ForeignKeyConstraint(["signed_document_id"], ["documents.id"], name=op.f("fk_signing_orders_signed_document_id_documents")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_signing_orders_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_orders")),
    )
    op.create_index(op.f("ix_signing_orders_case_id"), "signing_orders", ["case_id"])
    op.create_table(
        "signing_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("field_name", sa.String(length=40), nullable=False),
        sa.Column("signed_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signed_over_sha256", sa.String(length=64), nullable=True),
        sa.Column("signed_document_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["signing_orders.id"], name=op.f("fk_signing_invitations_order_id_signing_orders")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_signing_invitations_user_id_users")),
        sa.ForeignKeyConstraint(["signed_document_id"], ["documents.id"], name=op.f("fk_signing_invitations_signed_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_invitations")),
        sa.UniqueConstraint("order_id", "position", name=op.f("uq_signing_invitations_order_id_position")),
        sa.UniqueConstraint("order_id", "party", name=op.f("uq_signing_invitations_order_id_party")),
    )
    op.create_index(op.f("ix_signing_invitations_order_id"), "signing_invitations", ["order_id"])
    op.create_index(op.f("ix_signing_invitations_user_id"), "signing_invitations", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_signing_invitations_user_id", table_name="signing_invitations")
    op.drop_index("ix_signing_invitations_order_id", table_name="signing_invitations")
    op.drop_table("signing_invitations")
    op.drop_index("ix_signing_orders_case_id", table_name="signing_orders")
    op.drop_table("signing_orders")
