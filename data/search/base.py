"""The search engine interface: what the database stores for search, and the one place a
search reads the in-process index from.

The database is the source of truth. Each brief's analysed fields (and what filters read:
kind, date, bodies, deadline years) are kept in `search_documents`, stamped with a revision
from the one-row `search_state` counter; a removed brief leaves a tombstone. Every process
keeps an in-process index (data/search/live.py) and, before a search, reads the documents
of revisions it has not seen, so replicas follow each other's changes incrementally.

Bumping the counter row locks it until the transaction ends, so revisions become visible in
the order they were taken: a reader that has seen revision N never misses an older one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from policybot.data.models import Brief, Goal, SearchDocument, SearchState, brief_bodies
from policybot.data.search.analysis import ANALYSIS_VERSION, TermQuery, index_terms

# Set on a connection whose open transaction wrote search documents (cleared at its end):
# its own reads then see uncommitted documents, which must not enter the shared index.
WROTE_DOCUMENTS = "policybot.search.wrote"


@dataclass(frozen=True)
class IndexedFields:
    title: str  # English and original-language titles
    bodies: str  # issuing bodies' abbreviations and full names
    text: str  # summary and goals
    comment: str

    def analysed(self) -> tuple[list[str], list[str], list[str], list[str]]:
        return (
            index_terms(self.title),
            index_terms(self.bodies),
            index_terms(self.text),
            index_terms(self.comment),
        )


def bump_revision(session: Session) -> int:
    session.execute(
        update(SearchState).where(SearchState.id == 1).values(revision=SearchState.revision + 1)
    )
    revision = session.scalar(select(SearchState.revision).where(SearchState.id == 1))
    if revision is None:  # a database made before the counter row existed
        session.add(SearchState(id=1, revision=1))
        session.flush()
        revision = 1
    return int(revision)


def _metadata(session: Session, brief_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {
        brief_id: {"kind": str(kind), "published_on": published, "body_ids": [], "due_years": []}
        for brief_id, kind, published in session.execute(
            select(Brief.id, Brief.kind, Brief.published_on).where(Brief.id.in_(brief_ids))
        )
    }
    for brief_id, body_id in session.execute(
        select(brief_bodies.c.brief_id, brief_bodies.c.body_id).where(
            brief_bodies.c.brief_id.in_(brief_ids)
        )
    ):
        out[brief_id]["body_ids"].append(body_id)
    for brief_id, due_on in session.execute(
        select(Goal.brief_id, Goal.due_on).where(
            Goal.brief_id.in_(brief_ids), Goal.due_on.is_not(None)
        )
    ):
        if due_on is not None:
            out[brief_id]["due_years"].append(due_on.year)
    return out


def document_row(
    brief_id: int, fields: IndexedFields, meta: dict[str, Any], revision: int
) -> dict[str, Any]:
    title, bodies, body, comment = (" ".join(t) for t in fields.analysed())
    return {
        "brief_id": brief_id,
        "revision": revision,
        "deleted": False,
        "analysis": ANALYSIS_VERSION,
        "kind": meta.get("kind", "policy"),
        "published_on": meta.get("published_on"),
        "body_ids": " ".join(str(i) for i in sorted(set(meta.get("body_ids", ())))),
        "due_years": " ".join(str(y) for y in sorted(set(meta.get("due_years", ())))),
        "title": title,
        "bodies": bodies,
        "body": body,
        "comment": comment,
    }


class SearchEngine(ABC):
    """Stores search documents; searches go through the in-process index (live.py)."""

    def index(self, session: Session, items: Sequence[tuple[int, IndexedFields]]) -> None:
        """Add or replace the search documents of these (flushed) briefs."""
        if not items:
            return
        revision = bump_revision(session)
        meta = _metadata(session, [brief_id for brief_id, _ in items])
        rows = [document_row(i, f, meta.get(i, {}), revision) for i, f in items]
        for start in range(0, len(rows), 500):
            self._upsert(session, rows[start : start + 500])
        session.connection().info[WROTE_DOCUMENTS] = True

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
        session.connection().info[WROTE_DOCUMENTS] = True

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
        from policybot.data.search.live import among
        from policybot.data.search.ranking import Plan

        clauses = (*((q,) for q in include), *(tuple(g) for g in any_of))
        return among(session, Plan(clauses, tuple(exclude)), brief_ids)


def ensure_counter(session: Session) -> None:
    if session.get(SearchState, 1) is None:
        session.add(SearchState(id=1, revision=0))


__all__ = ["IndexedFields", "SearchDocument", "SearchEngine", "WROTE_DOCUMENTS", "text"]
