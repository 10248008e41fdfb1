"""Goals by deadline and kind

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-01

Deadlines, reminders and the scorecard read the goals of one kind in a range of deadlines;
with their kind and brief id in the index too, counting and listing them reads the index
alone (at 100,000 briefs a count of the window went from ~45 ms to a few). The deadline
comes first: led by the kind, SQLite (without statistics) took this index for any query
naming a kind, even one that names 15 briefs.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.create_index("ix_goals_due_on_kind", ["due_on", "kind", "brief_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index("ix_goals_due_on_kind")
