"""The PostgreSQL side of search: an upsert of search documents (INSERT ... ON CONFLICT)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..models import SearchDocument
from .base import SearchEngine


class PostgresEngine(SearchEngine):
    def _upsert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        statement = insert(SearchDocument)
        replaced = {c: statement.excluded[c] for c in rows[0] if c != "brief_id"}
        session.execute(
            statement.on_conflict_do_update(index_elements=["brief_id"], set_=replaced), rows
        )
