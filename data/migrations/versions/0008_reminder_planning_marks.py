"""Reminder planning marks and ledger lookups

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-01

Reminder planning reads only what fires (scheduler/reminders.py): each rule remembers up to
when its alerts were planned (`checked_until`) and the newest search revision it has seen
(`checked_revision`, so newly ingested or edited briefs are found by the indexed revision).
The ledger gets indexes on `goal_id` and `reminder_id` ("was this goal alerted here?", and
the ON DELETE actions of goals and rules), goals one on `window_start`. Existing rules start
unmarked: their first plan looks back to when they were created, as before.

(0008 follows 0009: it was written after 0009 had taken the head of the chain.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reminder_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("checked_revision", sa.Integer(), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_goal_id", ["goal_id"], unique=False)
        batch_op.create_index("ix_deliveries_reminder_id", ["reminder_id"], unique=False)
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.create_index("ix_goals_window_start", ["window_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index("ix_goals_window_start")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_reminder_id")
        batch_op.drop_index("ix_deliveries_goal_id")
    with op.batch_alter_table("reminder_rules", schema=None) as batch_op:
        batch_op.drop_column("checked_revision")
        batch_op.drop_column("checked_until")
