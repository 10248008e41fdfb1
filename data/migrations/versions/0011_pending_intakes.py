"""Pending intakes: files uploaded in Slack, previewed, waiting for Ingest or Cancel

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

The preview and the click may reach different replicas, so what waits between them is a
row: the file's bytes, who uploaded it where, and a status that leaves `pending` exactly
once (the same click twice, or a request Slack replays, writes the file once).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_intakes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("file_id", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("uploaded_by", sa.String(length=40), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_intakes")),
        sa.UniqueConstraint("team_id", "file_id", name="uq_pending_intakes_team_file"),
        sa.UniqueConstraint("token", name=op.f("uq_pending_intakes_token")),
    )


def downgrade() -> None:
    op.drop_table("pending_intakes")
