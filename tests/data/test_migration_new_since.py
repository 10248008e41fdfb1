"""Migration 0016 gives briefs stored before it the novelty rule's answer (data/novelty.py):
new since their ingestion when their issue was recent then, archive when it was a back
issue; an undated brief of no issue counts as new. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from policybot.data.db import downgrade, make_engine, pending_migrations, upgrade


def _after_0016(url: str) -> dict[str, datetime | None]:
    engine = make_engine(url)
    try:
        if pending_migrations(engine):
            upgrade(engine, "0014")
        else:
            downgrade(engine, "0014")
        now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO source_documents (id, name, content_hash, issue_date, "
                    "ingested_at, brief_count, unassigned_links) VALUES "
                    "(1, 'old.txt', 'h1', '2024-12-01', :now, 1, '[]'), "
                    "(2, 'new.txt', 'h2', '2026-11-01', :now, 1, '[]')"
                ),
                {"now": now},
            )
            for brief_id, title, document, published in (
                (1, "back", 1, "2024-12-10"),
                (2, "recent", 2, "2026-08-01"),  # an older policy in a recent issue
                (3, "loose", None, None),
            ):
                connection.execute(
                    text(
                        "INSERT INTO briefs (id, identity, content_hash, kind, title, summary, "
                        "comment, links, bodies_more, source_document_id, published_on, "
                        "ingested_at, updated_at) VALUES (:id, :identity, 'h', 'policy', :title, "
                        "'', '', '[]', false, :document, CAST(:published AS DATE), :now, :now)"
                    ),
                    {
                        "id": brief_id,
                        "identity": f"i{brief_id}",
                        "title": title,
                        "document": document,
                        "published": published,
                        "now": now,
                    },
                )
        upgrade(engine, "0016")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT title, new_since FROM briefs")).all()
        return {
            title: None
            if since is None
            else (datetime.fromisoformat(since) if isinstance(since, str) else since)
            .replace(tzinfo=None)
            .replace(tzinfo=UTC)
            for title, since in rows
        }
    finally:
        engine.dispose()


def _expected() -> dict[str, datetime | None]:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    return {"back": None, "recent": now, "loose": now}


def test_0016_on_sqlite(tmp_path: Path) -> None:
    assert _after_0016(f"sqlite:///{tmp_path / 'old.sqlite3'}") == _expected()


@pytest.mark.postgres
def test_0016_on_postgresql(fresh_postgres_url: str) -> None:
    assert _after_0016(fresh_postgres_url) == _expected()
