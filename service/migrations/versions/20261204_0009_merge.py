"""merge the parallel 0008 branches of 2026-12-04 into one head

Revision ID: 0009
Revises: 0008_indicators, 0008_ratelimit, 0008_signing
Create Date: 2026-12-04 20:00:00.000000

The branches add separate tables (agreement goals and indicators, shared rate-limit counts, signing orders); none
depends on another, so the merge changes nothing itself.
"""

from collections.abc import Sequence

revision: str = '0009'
down_revision: str | Sequence[str] | None = ('0008_indicators', '0008_ratelimit', '0008_signing')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
