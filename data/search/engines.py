"""The search engine of a session's database (the backend says which database it is)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from policybot.data.backends import backend_for
from policybot.data.search.base import IndexedFields, SearchEngine
from policybot.data.search.postgres import PostgresEngine
from policybot.data.search.sqlite import SqliteEngine

__all__ = ["IndexedFields", "PostgresEngine", "SearchEngine", "SqliteEngine", "engine_for"]


ENGINES: dict[str, type[SearchEngine]] = {"sqlite": SqliteEngine, "postgresql": PostgresEngine}


def engine_for(session: Session) -> SearchEngine:
    return ENGINES[backend_for(session).name]()
