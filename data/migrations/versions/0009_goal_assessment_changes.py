"""Goal assessment history: every answer to "was this target met?"

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01

`goal_assessment_changes` keeps each answer a team gave (status, note, who, when); the one
row per team and goal in `goal_assessments` stays the current answer. Answers given before
this revision become the first row of their history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goal_assessment_changes",
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
            name=op.f("fk_goal_assessment_changes_goal_id_goals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_assessment_changes")),
    )
    with op.batch_alter_table("goal_assessment_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_goal_assessment_changes_team_goal", ["team_id", "goal_id"], unique=False
        )
    op.execute(
        "INSERT INTO goal_assessment_changes"
        " (team_id, goal_id, status, note, answered_by, answered_at)"
        " SELECT team_id, goal_id, status, note, answered_by, answered_at FROM goal_assessments"
    )


def downgrade() -> None:
    with op.batch_alter_table("goal_assessment_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_assessment_changes_team_goal")
    op.drop_table("goal_assessment_changes")
