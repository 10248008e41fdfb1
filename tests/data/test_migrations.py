"""Alembic migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from policybot.data.db import pending_migrations
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
        assert connection.execute(text("SELECT count(*) FROM search_documents")).scalar() is not None
