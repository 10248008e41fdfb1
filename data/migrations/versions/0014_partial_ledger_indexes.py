"""Ledger indexes only over the rows they serve

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-01

A digest row has no goal or reminder rule and an alert row no subscription, yet every row
went into all three indexes. On a morning that writes hundreds of thousands of alert rows
each index entry is work; partial indexes (WHERE the column IS NOT NULL) keep each row
out of the indexes that cannot find it. Lookups by value (`goal_id = ?`, the ON DELETE
actions) imply NOT NULL, so both engines still use them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None

PARTIAL = {
    "ix_deliveries_subscription_brief": (["subscription_id", "brief_id"], "subscription_id"),
    "ix_deliveries_goal_id": (["goal_id"], "goal_id"),
    "ix_deliveries_reminder_id": (["reminder_id"], "reminder_id"),
}


def upgrade() -> None:
    for name, (columns, column) in PARTIAL.items():
        op.drop_index(name, table_name="deliveries")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "deliveries", columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, (columns, _column) in PARTIAL.items():
        op.drop_index(name, table_name="deliveries")
        op.create_index(name, "deliveries", columns)
