"""Calendar feeds and an identity for this installation

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

`calendar_feeds`: a channel's ICS subscription, served at a secret URL whose token is kept
only as a SHA-256 hash; revoking sets `revoked_at`. `installation`: one row holding a random
id given once, from which calendar event UIDs are made (`goal-5-due@<id>.policybot`), so two
installations' events never collide in one calendar. Filled here, so a read-only export
never has to write it.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("identity", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    op.execute(
        sa.text("INSERT INTO installation (id, identity) VALUES (1, :identity)").bindparams(
            identity=uuid.uuid4().hex
        )
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("query_text", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calendar_feeds_team_channel", ["team_id", "channel_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index("ix_calendar_feeds_team_channel")
    op.drop_table("calendar_feeds")
    op.drop_table("installation")
