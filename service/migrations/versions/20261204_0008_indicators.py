"""goals and indicators of an agreement, and the achieved values reports give for them

Revision ID: 0008_indicators
Revises: 0007
Create Date: 2026-12-04 19:40:00.000000

agreement_goals / agreement_indicators / indicator_periods: the register of an agreement's goals, each indicator's unit,
baseline, target, how it is measured and the follow-up reports (by due date) it is reported in, written from the complete
terms. indicator_results: a report's achieved value per indicator, the organisation's comment and the officer's rating.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_indicators'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreement_goals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.UniqueConstraint("case_id", "position", name="uq_agreement_goals_case_position"),
    )
    op.create_index("ix_agreement_goals_case_id", "agreement_goals", ["case_id"])
    op.create_table(
        "agreement_indicators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("goal_id", sa.Integer(), sa.ForeignKey("agreement_goals.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("how_measured", sa.Text(), nullable=False),
    )
    op.create_index("ix_agreement_indicators_case_id", "agreement_indicators", ["case_id"])
    op.create_index("ix_agreement_indicators_goal_id", "agreement_indicators", ["goal_id"])
    op.create_table(
        "indicator_periods",
        sa.Column("indicator_id", sa.Integer(), sa.ForeignKey("agreement_indicators.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("due_on", sa.Date(), primary_key=True),
    )
    op.create_table(
        "indicator_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("followup_reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("indicator_id", sa.Integer(), sa.ForeignKey("agreement_indicators.id"), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("rating", sa.String(length=10), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.UniqueConstraint("report_id", "indicator_id", name="uq_indicator_results_report_indicator"),
    )
    op.create_index("ix_indicator_results_report_id", "indicator_results", ["report_id"])
    op.create_index("ix_indicator_results_indicator_id", "indicator_results", ["indicator_id"])


def downgrade() -> None:
    op.drop_table("indicator_results")
    op.drop_table("indicator_periods")
    op.drop_table("agreement_indicators")
    op.drop_table("agreement_goals")
