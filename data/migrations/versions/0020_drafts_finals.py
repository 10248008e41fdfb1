"""Same documents and drafts: a brief's document key and URL, its draft flag and final
version, the parts (primary text, tracker coverage) it was built from, and pending
"finalised" notices

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

A document reached twice (its official page and a tracker's entry about it) is one brief
(data/ingest/same_document.py): `document_key` (its own name, normalised) and
`document_url` find it again; `brief_parts` keeps what each kind of source said, so the
brief's fields are rebuilt from both. A draft for comments (`draft`) is linked to its final
version (`final_id`) when that arrives, and `finalisations` holds the change to its targets
until the channels told of the draft have had their one notice planned
(scheduler/kinds/finalised.py). Existing briefs get their key on first use (NULL: not yet
computed), not here: the key is the reader's, and a revision must mean the same thing
whatever the code becomes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("document_url", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("draft", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("final_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_briefs_final_id_briefs"),
            "briefs",
            ["final_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_briefs_document_key", ["document_key"], unique=False)
        batch_op.create_index("ix_briefs_document_url", ["document_url"], unique=False)
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.alter_column("draft", server_default=None)
    op.create_table(
        "brief_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brief_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("source_document_id", sa.Integer(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brief_id"],
            ["briefs.id"],
            name=op.f("fk_brief_parts_brief_id_briefs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_document_id"],
            ["source_documents.id"],
            name=op.f("fk_brief_parts_source_document_id_source_documents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brief_parts")),
        sa.UniqueConstraint("brief_id", "role", name="uq_brief_parts_brief_id_role"),
    )
    op.create_table(
        "finalisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("final_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["briefs.id"],
            name=op.f("fk_finalisations_draft_id_briefs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["final_id"],
            ["briefs.id"],
            name=op.f("fk_finalisations_final_id_briefs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finalisations")),
        sa.UniqueConstraint("draft_id", name=op.f("uq_finalisations_draft_id")),
    )


def downgrade() -> None:
    op.drop_table("finalisations")
    op.drop_table("brief_parts")
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.drop_index("ix_briefs_document_url")
        batch_op.drop_index("ix_briefs_document_key")
        batch_op.drop_constraint(batch_op.f("fk_briefs_final_id_briefs"), type_="foreignkey")
        batch_op.drop_column("final_id")
        batch_op.drop_column("draft")
        batch_op.drop_column("document_url")
        batch_op.drop_column("document_key")
