"""accounts: token generation (revocation), e-mailed account tokens, e-mail confirmation, organisation verification

Revision ID: 0005_auth
Revises: 0004
Create Date: 2026-12-04 01:10:00.000000

users.token_generation: every token carries the number it was issued under; raising it (password change or reset,
reactivation) refuses older tokens and web sessions. account_tokens (password reset, e-mail confirmation) keeps only
the SHA-256 of the e-mailed token. users.email_confirmed_at: a self-registered account logs in once its owner followed
the e-mailed link; existing accounts count as confirmed (their creation time).
organisations.verified_at/verified_by_id: a self-registered organisation's cases cannot be submitted until an officer
confirms it. Organisations that exist when this runs were accepted under the earlier rules and count as verified
(verified_at = their creation, verified_by_id empty), so no case in progress is stopped by the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0005_auth'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'account_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', service.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash')),
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('email_confirmed_at', service.db.UTCDateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE users SET email_confirmed_at = created_at"))

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_at', service.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_organisations_verified_by_id_users'), 'users', ['verified_by_id'], ['id'])
    op.execute(sa.text("UPDATE organisations SET verified_at = created_at"))


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_organisations_verified_by_id_users'), type_='foreignkey')
        batch_op.drop_column('verified_by_id')
        batch_op.drop_column('verified_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
        batch_op.drop_column('token_generation')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tokens_user_id'))
    op.drop_table('account_tokens')
