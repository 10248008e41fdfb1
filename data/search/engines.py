"""The search engine of a session's database (the backend says which database it is)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..backends import backend_for
from .base import IndexedFields, SearchEngine
from .postgres import PostgresEngine
from .sqlite import SqliteEngine

__all__ = ["IndexedFields", "PostgresEngine", "SearchEngine", "SqliteEngine", "engine_for"]


ENGINES: dict[str, type[SearchEngine]] = {"sqlite": SqliteEngine, "postgresql": PostgresEngine}


def engine_for(session: Session) -> SearchEngine:
    return ENGINES[backend_for(session).name]()
