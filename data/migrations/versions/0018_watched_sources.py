"""Watched sources: feeds, document lists and PDFs polled for new material

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

A source is a row an admin adds (`/policy source add`); the poller leases a due one,
fetches it conditionally and keeps its validators, outcome and back-off on the row. Each
document a source points at is a row of `source_items`, unique by URL (and by the feed's
GUID within a source), so each is read once across polls and replicas.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watched_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("every_minutes", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(length=40), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("items_found", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watched_sources")),
        sa.UniqueConstraint("team_id", "url", name="uq_watched_sources_team_url"),
    )
    op.create_index(
        "ix_watched_sources_next_poll_at", "watched_sources", ["next_poll_at"], unique=False
    )
    op.create_table(
        "source_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("guid", sa.String(length=500), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["watched_sources.id"],
            name=op.f("fk_source_items_source_id_watched_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_items")),
        sa.UniqueConstraint("url", name="uq_source_items_url"),
        sa.UniqueConstraint("source_id", "guid", name="uq_source_items_source_guid"),
    )
    op.create_index(
        "ix_source_items_source_status", "source_items", ["source_id", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_source_items_source_status", table_name="source_items")
    op.drop_table("source_items")
    op.drop_index("ix_watched_sources_next_poll_at", table_name="watched_sources")
    op.drop_table("watched_sources")
