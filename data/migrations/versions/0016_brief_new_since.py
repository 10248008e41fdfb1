"""Briefs: from when each counts as new (NULL: archive)

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07

Digests, "newly tracked" alerts and subscription previews selected briefs by ingestion
time, so loading a back issue posted two-year-old briefs as new. `new_since` is set at
ingestion by one rule (data/novelty.py): the ingestion time for a recent issue, NULL for
an archive one. Existing briefs get the same rule applied to what they were ingested
with: new since their ingestion when their issue (else their own date) was at most
ARCHIVE_AFTER (90 days) old then, archive otherwise. The rule's figure is written here,
not imported, so this revision means the same thing whatever the code becomes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

_ARCHIVE_AFTER = timedelta(days=90)
_CHUNK = 500


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_utc(value: object) -> datetime:
    # SQLite hands back text.
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def upgrade() -> None:
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("new_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_briefs_new_since", ["new_since"], unique=False)
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT b.id, b.ingested_at, d.issue_date, b.published_on FROM briefs b "
            "LEFT JOIN source_documents d ON d.id = b.source_document_id"
        )
    ).all()
    new: list[dict[str, object]] = []
    for brief_id, ingested_at, issue_date, published_on in rows:
        moment = _as_utc(ingested_at)
        dated = _as_date(issue_date) or _as_date(published_on)
        if dated is None or dated >= moment.date() - _ARCHIVE_AFTER:
            new.append({"i": brief_id, "s": ingested_at})
    statement = sa.text("UPDATE briefs SET new_since = :s WHERE id = :i")
    for start in range(0, len(new), _CHUNK):
        connection.execute(statement, new[start : start + _CHUNK])


def downgrade() -> None:
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.drop_index("ix_briefs_new_since")
        batch_op.drop_column("new_since")
