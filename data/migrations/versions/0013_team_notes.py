"""Team notes on briefs

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-01

A workspace keeps notes on briefs (who, when, what); they are shown with the brief and
searched within that workspace only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=40), nullable=False),
        sa.Column("brief_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brief_id"],
            ["briefs.id"],
            name=op.f("fk_team_notes_brief_id_briefs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_notes")),
    )
    with op.batch_alter_table("team_notes", schema=None) as batch_op:
        batch_op.create_index("ix_team_notes_team_brief", ["team_id", "brief_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("team_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_team_notes_team_brief")
    op.drop_table("team_notes")
