"""The search engine interface: what the database stores for search.

The database is the source of truth. Each brief's analysed fields (and what filters read:
kind, date, bodies, deadline years) are kept in `search_documents`, stamped with a revision
from the one-row `search_state` counter; a removed brief leaves a tombstone. The search
index on disk (data/search/shared.py, one per database, shared by every process) applies
the documents of the revisions it has not seen before a search, so every process follows
every other's changes incrementally.

Bumping the counter row locks it until the transaction ends, so revisions become visible in
the order they were taken: a reader that has seen revision N never misses an older one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import SearchDocument, SearchState
from .analysis import TermQuery
from .documents import (
    WROTE_DOCUMENTS,
    IndexedFields,
    bump_revision,
    document_row,
    mark_written,
    metadata,
)


class SearchEngine(ABC):
    """Stores search documents; searches go through the index (live.py, shared.py)."""

    def index(self, session: Session, items: Sequence[tuple[int, IndexedFields]]) -> None:
        """Add or replace the search documents of these (flushed) briefs."""
        if not items:
            return
        revision = bump_revision(session)
        meta = metadata(session, [brief_id for brief_id, _ in items])
        rows = [document_row(i, f, meta.get(i, {}), revision) for i, f in items]
        for start in range(0, len(rows), 500):
            self._upsert(session, rows[start : start + 500])
        mark_written(session)

    def remove(self, session: Session, brief_ids: Sequence[int]) -> None:
        """Leave tombstones, so every index drops these briefs."""
        if not brief_ids:
            return
        revision = bump_revision(session)
        empty: dict[str, Any] = {
            "kind": "policy",
            "published_on": None,
            "body_ids": [],
            "due_years": [],
        }
        fields = IndexedFields("", "", "", "")
        rows = [{**document_row(i, fields, empty, revision), "deleted": True} for i in brief_ids]
        self._upsert(session, rows)
        mark_written(session)

    @abstractmethod
    def _upsert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        """Insert these search_documents rows, replacing any of the same brief."""

    def among(
        self,
        session: Session,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        brief_ids: Sequence[int],
        any_of: Sequence[Sequence[TermQuery]] = (),
    ) -> set[int]:
        """Those of `brief_ids` that match all of `include` (and a member of each `any_of`
        group) and none of `exclude`. Its cost follows the ids (new briefs, say), not the
        size of the store: their documents are read and matched on their own."""
        from .live import among
        from .ranking import Plan

        clauses = (*((q,) for q in include), *(tuple(g) for g in any_of))
        return among(session, Plan(clauses, tuple(exclude)), brief_ids)


def ensure_counter(session: Session) -> None:
    if session.get(SearchState, 1) is None:
        session.add(SearchState(id=1, revision=0))


__all__ = ["IndexedFields", "SearchDocument", "SearchEngine", "WROTE_DOCUMENTS", "text"]
