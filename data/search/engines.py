"""The one place that picks a search engine by database dialect."""

from __future__ import annotations

from sqlalchemy.orm import Session

from policybot.data.search.base import IndexedFields, SearchEngine
from policybot.data.search.postgres import PostgresEngine
from policybot.data.search.sqlite import SqliteEngine

__all__ = ["IndexedFields", "PostgresEngine", "SearchEngine", "SqliteEngine", "engine_for"]


def engine_for(session: Session) -> SearchEngine:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return SqliteEngine()
    if dialect == "postgresql":
        return PostgresEngine()
    raise RuntimeError(f"no search engine for the {dialect} database")
