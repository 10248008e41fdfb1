"""reminders and goal assessments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Deadline reminder rules, per-team goal assessments (the scorecard), reminder columns on
the delivery ledger.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("query_text", sa.Text(), nullable=False),
        sa.Column("leads", sa.JSON(), nullable=False),
        sa.Column("at_minute", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_reason", sa.String(length=200), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_rules")),
    )
    op.create_table(
        "goal_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=40), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=40), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["goals.id"],
            name=op.f("fk_goal_assessments_goal_id_goals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_assessments")),
        sa.UniqueConstraint("team_id", "goal_id", name="uq_goal_assessments_team_goal"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("edge", sa.String(length=10), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_reminder_id_reminder_rules"),
            "reminder_rules",
            ["reminder_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_reminder_id_reminder_rules"), type_="foreignkey"
        )
        batch_op.drop_column("edge")
        batch_op.drop_column("reminder_id")

    op.drop_table("goal_assessments")
    op.drop_table("reminder_rules")
