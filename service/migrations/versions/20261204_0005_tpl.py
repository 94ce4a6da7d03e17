"""idempotency-key expiry index; municipalities' own document templates

Revision ID: 0005_tpl
Revises: 0004
Create Date: 2026-12-04 01:30:00.000000

document_templates: a municipality's own .docx per document kind, one row per uploaded version (the bytes are in
the object store; which version is active is a pointer object there, so no column here).

The maintenance flow deletes Idempotency-Key records older than 24 h oldest first: an index on
created_at lets it find them without reading every stored response.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0005_tpl'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('document_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=500), nullable=False),
    sa.Column('storage_version_id', sa.String(length=200), nullable=False),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_document_templates_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_templates')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_document_templates_storage_key'))
    )
    op.create_index('uq_document_templates_kind_version', 'document_templates', ['kind', 'version'], unique=True)
    op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('uq_document_templates_kind_version', table_name='document_templates')
    op.drop_table('document_templates')
    op.drop_index('ix_idempotency_keys_created_at', table_name='idempotency_keys')
