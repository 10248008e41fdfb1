"""Search documents and a revision counter for the in-process index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Search now ranks in the process (data/search/index.py) from documents the database keeps:
`search_documents` (a brief's analysed fields and filter values, stamped with a revision)
and the one-row `search_state` counter. The database-side full-text indexes (FTS5 on SQLite,
tsvector + GIN on PostgreSQL) are no longer read and are dropped. Briefs stored before this
revision have no document yet: every index analyses them from the brief until ingestion
writes one (data/search/live.py). A downgrade recreates the old tables empty; re-ingest the
tracker files to fill them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("brief_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("analysis", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("body_ids", sa.Text(), nullable=False),
        sa.Column("due_years", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("bodies", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("brief_id", name=op.f("pk_search_documents")),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.create_index("ix_search_documents_revision", ["revision"], unique=False)
    op.create_table(
        "search_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_state")),
    )
    op.execute("INSERT INTO search_state (id, revision) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_brief_search_title")
    op.drop_table("brief_search")


def downgrade() -> None:
    op.drop_table("search_state")
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_search_documents_revision")
    op.drop_table("search_documents")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE brief_search USING fts5("
            "title, bodies, body, comment, tokenize = 'unicode61 remove_diacritics 0')"
        )
    else:
        op.create_table(
            "brief_search",
            sa.Column(
                "brief_id",
                sa.Integer(),
                sa.ForeignKey(
                    "briefs.id", ondelete="CASCADE", name="fk_brief_search_brief_id_briefs"
                ),
                primary_key=True,
            ),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
        )
        op.create_index(
            "ix_brief_search_document", "brief_search", ["document"], postgresql_using="gin"
        )
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_brief_search_title "
            "ON brief_search USING gin (ts_filter(document, '{a}'))"
        )
