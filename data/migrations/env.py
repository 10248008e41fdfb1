"""Alembic environment: migrations run on the engine that data.db.upgrade passes in."""

from __future__ import annotations

from alembic import context

from policybot.data.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise RuntimeError("run migrations with `policybot db upgrade`")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # The search index is engine-specific (FTS5 table / tsvector) and kept out of the models;
    # slack_sdk's OAuth store tables are defined by slack_sdk.
    return not (name or "").startswith(("brief_search", "slack_"))


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
