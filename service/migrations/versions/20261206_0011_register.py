"""register: reserved branch of 2026-12-06 (filled by the change that needs it)

Revision ID: 0011_register
Revises: 0010_diarium
Create Date: 2026-12-06 20:45:00.000000
"""

from collections.abc import Sequence

revision: str = '0011_register'
down_revision: str | None = '0010_diarium'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
