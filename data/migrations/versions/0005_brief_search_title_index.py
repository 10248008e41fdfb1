"""Title index for search on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Search ranks briefs that match in a title first; on PostgreSQL that tier is read from a GIN
index over the title-weighted (A) lexemes. SQLite's FTS5 filters columns by itself. The
engine looks the index up by this name.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_brief_search_title "
            "ON brief_search USING gin (ts_filter(document, '{a}'))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_brief_search_title")
