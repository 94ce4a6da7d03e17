"""documents keep the uploader's file name; internal documents numbered on their own

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 02:55:00.000000

documents.original_filename: the name the uploaded file had (the stored name is made storage-safe and gets the
detected extension). The unique index on (case_id, kind, version) gains `internal`, so a hidden internal attachment
no longer leaves a gap in the versions the organisation sees.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("original_filename", sa.String(length=255), nullable=True))
        batch.drop_index("uq_documents_case_kind_version")
        batch.create_index("uq_documents_case_kind_internal_version", ["case_id", "kind", "internal", "version"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("uq_documents_case_kind_internal_version")
        batch.create_index("uq_documents_case_kind_version", ["case_id", "kind", "version"], unique=True)
        batch.drop_column("original_filename")
