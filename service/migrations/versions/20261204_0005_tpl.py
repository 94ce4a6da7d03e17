"""idempotency-key expiry index; municipalities' own document templates

Revision ID: 0005_tpl
Revises: 0004
Create Date: 2026-12-04 01:30:00.000000

The maintenance flow deletes Idempotency-Key records older than 24 h oldest first: an index on
created_at lets it find them without reading every stored response.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0005_tpl'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_idempotency_keys_created_at', table_name='idempotency_keys')
