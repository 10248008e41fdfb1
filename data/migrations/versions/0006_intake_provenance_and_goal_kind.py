"""Intake: goal kind, comment author, publication of a source document

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Goals tell a government target from a company's own plan (`kind`, existing rows are policy
targets, as they were treated until now); briefs keep who wrote their comment; a source
document keeps the newsletter's name from its header.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="policy")
        )
    # The server default only fills existing rows; the model sets the value on insert.
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment_author", sa.String(length=200), nullable=True))
    with op.batch_alter_table("source_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("publication", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_documents", schema=None) as batch_op:
        batch_op.drop_column("publication")
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.drop_column("comment_author")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_column("kind")
