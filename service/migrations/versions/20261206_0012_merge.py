"""merge the parallel 0011 branches of 2026-12-06 into one head

Revision ID: 0012
Revises: 0011_archive, 0011_export, 0011_oidc, 0011_register
Create Date: 2026-12-06 20:45:00.000000

The branches add separate tables (single sign-on, public register, retention and e-archive export); none depends on
another, so the merge changes nothing itself.
"""

from collections.abc import Sequence

revision: str = '0012'
down_revision: str | Sequence[str] | None = ('0011_archive', '0011_export', '0011_oidc', '0011_register')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
