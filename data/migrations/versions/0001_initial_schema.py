"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29

The brief store, issuing bodies with aliases, goals, and the full-text index (an FTS5
virtual table on SQLite; a tsvector column with a GIN index on PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuing_bodies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("abbreviation", sa.String(length=40), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuing_bodies")),
        sa.UniqueConstraint("abbreviation", name=op.f("uq_issuing_bodies_abbreviation")),
    )
    op.create_table(
        "source_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("brief_count", sa.Integer(), nullable=False),
        sa.Column("unassigned_links", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_documents")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_source_documents_content_hash")),
    )
    op.create_table(
        "vocabulary",
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_vocabulary")),
    )
    op.create_table(
        "body_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=300), nullable=False),
        sa.Column("normalized", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["issuing_bodies.id"],
            name=op.f("fk_body_aliases_body_id_issuing_bodies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_body_aliases")),
        sa.UniqueConstraint("normalized", name=op.f("uq_body_aliases_normalized")),
    )
    op.create_table(
        "briefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_original", sa.Text(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("bodies_more", sa.Boolean(), nullable=False),
        sa.Column("source_label", sa.String(length=200), nullable=True),
        sa.Column("source_document_id", sa.Integer(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_document_id"],
            ["source_documents.id"],
            name=op.f("fk_briefs_source_document_id_source_documents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefs")),
        sa.UniqueConstraint("identity", name=op.f("uq_briefs_identity")),
    )
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.create_index("ix_briefs_ingested_at", ["ingested_at"], unique=False)
        batch_op.create_index("ix_briefs_published_on", ["published_on"], unique=False)

    op.create_table(
        "brief_bodies",
        sa.Column("brief_id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["issuing_bodies.id"],
            name=op.f("fk_brief_bodies_body_id_issuing_bodies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["brief_id"],
            ["briefs.id"],
            name=op.f("fk_brief_bodies_brief_id_briefs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("brief_id", "body_id", name=op.f("pk_brief_bodies")),
    )
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brief_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("precision", sa.String(length=10), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["brief_id"], ["briefs.id"], name=op.f("fk_goals_brief_id_briefs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
        sa.UniqueConstraint("brief_id", "position", name="uq_goals_brief_id_position"),
    )
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.create_index("ix_goals_due_on", ["due_on"], unique=False)
    _create_search_index()


def _create_search_index() -> None:
    # Terms are analysed in Python (data/search/analysis.py) and stored space-separated,
    # so both engines only split on spaces and index the same terms.
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


def downgrade() -> None:
    op.drop_table("brief_search")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index("ix_goals_due_on")

    op.drop_table("goals")
    op.drop_table("brief_bodies")
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.drop_index("ix_briefs_published_on")
        batch_op.drop_index("ix_briefs_ingested_at")

    op.drop_table("briefs")
    op.drop_table("body_aliases")
    op.drop_table("vocabulary")
    op.drop_table("source_documents")
    op.drop_table("issuing_bodies")
