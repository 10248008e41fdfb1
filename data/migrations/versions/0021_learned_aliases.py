"""Aliases learned from the briefs

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

A term the briefs define in parentheses on first use ("power usage effectiveness (PUE)",
"Belt and Road Initiative (BRI)") is kept as a synonym group that searches expand like the
thesaurus's (data/search/aliases.py). Filled at ingestion; a store migrated here learns
its aliases when its trackers are ingested again (an unchanged file is read and its
aliases learned without changing a brief).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("short_form", sa.String(length=40), nullable=False),
        sa.Column("long_form", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_aliases")),
        sa.UniqueConstraint("short_form", "long_form", name="uq_learned_aliases_short_long"),
    )


def downgrade() -> None:
    op.drop_table("learned_aliases")
