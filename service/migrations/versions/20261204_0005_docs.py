"""decision documents tied to their review, delegation points per approver, minutes' justering

Revision ID: 0005_docs
Revises: 0004
Create Date: 2026-12-04 01:30:00.000000

documents.review_id: each decided review gets its own beslut document (NULL for every other
document and for a termination, which has no review). users.delegation_reference: the point in
the delegationsordning an approver decides under, printed on the decision. dialogue_meetings.recorder
and .adjuster: protokollförare and justerare of the minutes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_docs'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("review_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_documents_review_id_reviews", "reviews", ["review_id"], ["id"])
        batch.create_index("ix_documents_review_id", ["review_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("delegation_reference", sa.String(length=200), nullable=True))
    with op.batch_alter_table("dialogue_meetings") as batch:
        batch.add_column(sa.Column("recorder", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("adjuster", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dialogue_meetings") as batch:
        batch.drop_column("adjuster")
        batch.drop_column("recorder")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("delegation_reference")
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_review_id")
        batch.drop_constraint("fk_documents_review_id_reviews", type_="foreignkey")
        batch.drop_column("review_id")
