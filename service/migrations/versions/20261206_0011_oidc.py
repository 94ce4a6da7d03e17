"""oidc: single sign-on identities, logins under way, provider sessions and organisation invitations

Revision ID: 0011_oidc
Revises: 0010_diarium
Create Date: 2026-12-06 20:45:00.000000

user_identities: an account's subject at a provider (unique per provider); oidc_logins: a login at a provider not yet
back (state digest, nonce, PKCE verifier, single use); oidc_sessions: web sessions started through a provider (its sid,
the ID token for logout, an absolute end); organisation_invitations: an e-mail address invited into an organisation.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = '0011_oidc'
down_revision: str | None = '0010_diarium'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = service.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "user_identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_login_at", UTC, nullable=True),
        sa.UniqueConstraint("provider", "subject", name="uq_user_identities_provider_subject"),
    )
    op.create_index("ix_user_identities_user_id", "user_identities", ["user_id"])
    op.create_table(
        "oidc_logins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.UniqueConstraint("state_hash", name="uq_oidc_logins_state_hash"),
    )
    op.create_index("ix_oidc_logins_expires_at", "oidc_logins", ["expires_at"])
    op.create_table(
        "oidc_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("provider_sid", sa.String(length=255), nullable=True),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
    )
    op.create_index("ix_oidc_sessions_user_id", "oidc_sessions", ["user_id"])
    op.create_index("ix_oidc_sessions_provider_sid", "oidc_sessions", ["provider", "provider_sid"])
    op.create_table(
        "organisation_invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("accepted_at", UTC, nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
    )
    op.create_index("ix_organisation_invitations_organisation_id", "organisation_invitations", ["organisation_id"])
    op.create_index("ix_organisation_invitations_email", "organisation_invitations", ["email"])


def downgrade() -> None:
    op.drop_index("ix_organisation_invitations_email", table_name="organisation_invitations")
    op.drop_index("ix_organisation_invitations_organisation_id", table_name="organisation_invitations")
    op.drop_table("organisation_invitations")
    op.drop_index("ix_oidc_sessions_provider_sid", table_name="oidc_sessions")
    op.drop_index("ix_oidc_sessions_user_id", table_name="oidc_sessions")
    op.drop_table("oidc_sessions")
    op.drop_index("ix_oidc_logins_expires_at", table_name="oidc_logins")
    op.drop_table("oidc_logins")
    op.drop_index("ix_user_identities_user_id", table_name="user_identities")
    op.drop_table("user_identities")
