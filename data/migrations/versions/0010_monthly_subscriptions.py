"""Monthly subscriptions: the day of the month

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01

Subscriptions gain the cadences analysts ask for: weekdays (Monday to Friday) and monthly
on a day of the month (`month_day`; a day a month lacks means its last day). `schedule`
is a string column already, so the new cadences need no other change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("month_day", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("month_day")
