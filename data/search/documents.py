"""A brief as the search index stores it: its analysed fields and what filters read, one row
of `search_documents` stamped with a revision of the `search_state` counter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event, select, update
from sqlalchemy.orm import Session

from ..models import Brief, Goal, SearchState, brief_bodies
from .analysis import ANALYSIS_VERSION, index_terms

# Set on a connection whose open transaction wrote search documents (cleared at its end):
# its own reads then see uncommitted documents, which must not enter the shared index.
WROTE_DOCUMENTS = "policybot.search.wrote"
# On the same connection: its private index of what it sees, (revision, index) (live.py).
PRIVATE_INDEX = "policybot.search.private"
_WATCHED: set[int] = set()


def _forget_writes(connection: Connection) -> None:
    connection.info.pop(WROTE_DOCUMENTS, None)
    connection.info.pop(PRIVATE_INDEX, None)


def _forget_private_index(connection: Connection, *_: object) -> None:
    # Writes before the savepoint stand, but its revisions will be taken again.
    connection.info.pop(PRIVATE_INDEX, None)


def mark_written(session: Session) -> None:
    """Mark the session's connection as holding uncommitted documents until its transaction
    ends (the mark and the private index go then)."""
    connection = session.connection()
    engine = connection.engine
    if id(engine) not in _WATCHED:
        event.listen(engine, "commit", _forget_writes)
        event.listen(engine, "rollback", _forget_writes)
        event.listen(engine, "rollback_savepoint", _forget_private_index)
        _WATCHED.add(id(engine))
    connection.info[WROTE_DOCUMENTS] = True


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


def metadata(session: Session, brief_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
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
