"""An identity for the database's search index

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

The search index lives on disk beside the database (data/search/shared.py), named by a
random id stored here: an index built from one database is never taken for another's (a
restored file, a recreated PostgreSQL database of the same name). Filled now for an
database now (the row is made if the database has none yet), so no search has to write
it later; a database made without migrations is given one at its first search.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity", sa.String(length=32), nullable=True))
    op.execute(
        sa.text(
            "INSERT INTO search_state (id, revision) SELECT 1, 0 "
            "WHERE NOT EXISTS (SELECT 1 FROM search_state WHERE id = 1)"
        )
    )
    op.execute(
        sa.text("UPDATE search_state SET identity = :identity WHERE id = 1").bindparams(
            identity=uuid.uuid4().hex
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("search_state", schema=None) as batch_op:
        batch_op.drop_column("identity")
