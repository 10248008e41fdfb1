"""Alembic migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from policybot.data.db import downgrade, make_engine, pending_migrations, upgrade
from policybot.data.models import Base


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, type_, _: (
                    not (name or "").startswith(("brief_search", "slack_"))
                )
            },
        )
        differences = compare_metadata(context, Base.metadata)
    # The search index is engine-specific (FTS5 / tsvector) and lives outside the models.
    differences = [d for d in differences if "brief_search" not in repr(d)]
    assert differences == []


def test_schema_is_current_and_has_search_index(engine: Engine) -> None:
    assert not pending_migrations(engine)
    names = set(inspect(engine).get_table_names())
    assert {"briefs", "goals", "issuing_bodies", "brief_bodies", "body_aliases"} <= names
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= names
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM search_documents")).scalar() is not None
        )


def _goals_after_0006(url: str) -> list[tuple[str, str | None]]:
    """A goal stored at revision 0005, then the upgrade to 0006: what did 0006 make of it?"""
    engine = make_engine(url)
    try:
        if pending_migrations(engine):
            upgrade(engine, "0005")  # a new, empty database
        else:
            downgrade(engine, "0005")  # one already at the newest revision
        now = datetime(2026, 11, 1, tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO briefs (id, identity, content_hash, kind, title, summary, "
                    "comment, links, bodies_more, ingested_at, updated_at) VALUES (1, 'i', 'h', "
                    "'news', 'Airbus', '', '', '[]', false, :now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO goals (brief_id, position, text, status) "
                    "VALUES (1, 0, 'Open a line by 2026', 'open')"
                )
            )
        upgrade(engine, "0006")
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT g.kind, b.comment_author FROM goals g JOIN briefs b ON b.id = g.brief_id"
                )
            ).all()
        return [(str(kind), author) for kind, author in rows]
    finally:
        engine.dispose()


def test_0006_keeps_stored_goals_as_policy_targets_on_sqlite(tmp_path: Path) -> None:
    assert _goals_after_0006(f"sqlite:///{tmp_path / 'old.sqlite3'}") == [("policy", None)]


@pytest.mark.postgres
def test_0006_keeps_stored_goals_as_policy_targets_on_postgresql(fresh_postgres_url: str) -> None:
    assert _goals_after_0006(fresh_postgres_url) == [("policy", None)]
