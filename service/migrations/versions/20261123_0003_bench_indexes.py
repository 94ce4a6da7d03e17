"""bench indexes: list pages and the deadline sweep stay one index range at 100k cases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00.000000

Measured with `python -m bench` (bench/README.md):
- case lists filtered by department/stage/officer and sorted newest first read one ordered
  index range instead of filtering or sorting the department's cases;
- the escalation query skips already escalated missed deadlines, the reminder claim skips
  skipped reminders (both grow with history, not with the due work).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_department_stage')
        batch_op.drop_index('ix_cases_officer_stage')
        batch_op.create_index('ix_cases_department_stage_created', ['department_id', 'stage', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_department_created', ['department_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_officer_stage_created', ['officer_id', 'stage', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_status_escalate')
        batch_op.create_index('ix_deadlines_escalation_pending', ['status', 'escalated_at', 'escalate_at'], unique=False)

    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_reminders_pending')
        batch_op.create_index('ix_reminders_unsent', ['sent_at', 'skipped_at', 'scheduled_for'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_reminders_unsent')
        batch_op.create_index('ix_reminders_pending', ['sent_at', 'scheduled_for'], unique=False)

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_escalation_pending')
        batch_op.create_index('ix_deadlines_status_escalate', ['status', 'escalate_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_officer_stage_created')
        batch_op.drop_index('ix_cases_department_created')
        batch_op.drop_index('ix_cases_department_stage_created')
        batch_op.create_index('ix_cases_officer_stage', ['officer_id', 'stage'], unique=False)
        batch_op.create_index('ix_cases_department_stage', ['department_id', 'stage'], unique=False)
