"""merge the parallel 0005 branches of 2026-12-04 into one head

Revision ID: 0006
Revises: 0005_auth, 0005_batch, 0005_docs, 0005_journey, 0005_rules, 0005_tpl
Create Date: 2026-12-04 02:35:00.000000

The branches touch different columns and tables (accounts, reminder batches, decision documents, notification
settings, business rules, templates); none depends on another, so the merge changes nothing itself.
"""

from collections.abc import Sequence

revision: str = '0006'
down_revision: str | Sequence[str] | None = ('0005_auth', '0005_batch', '0005_docs', '0005_journey', '0005_rules', '0005_tpl')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
