"""What one search reads: the shared index on disk, or a private one.

A search reads the shared index of its database (data/search/shared.py), caught up to the
revision its session sees. Two cases read a private index in memory instead, built from
the documents the session sees:

- a transaction that wrote search documents (ingestion, tests) sees its own uncommitted
  documents, which must never enter the shared index; its private index lives as long as
  the transaction and follows its later writes;
- an in-memory database, which no other connection or process can see.

The scheduler's questions about a few new briefs (`among`) read an index of those briefs'
documents alone: its cost follows the new briefs, not the store.
"""

from __future__ import annotations

from collections.abc import Sequence

import tantivy
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from ..backends import backend_for
from ..db import read_only
from ..models import SearchState
from . import index as tindex
from .documents import PRIVATE_INDEX, WROTE_DOCUMENTS
from .ranking import Plan, Searcher
from .rows import analysed, changes, documents_of, every_document
from .shared import database_state, shared_index


def _in_memory(engine: Engine) -> bool:
    return backend_for(engine).in_memory(engine)


def _private_index(session: Session, connection: Connection) -> tantivy.Index:
    """The index of what this connection sees, kept for its transaction and brought up to
    the revision it sees now."""
    revision, _ = database_state(connection)
    cached: tuple[int, tantivy.Index] | None = connection.info.get(PRIVATE_INDEX)
    if cached is None:
        index = tindex.ram_index(every_document(session, set()))
    elif cached[0] != revision:
        index = cached[1]
        found = changes(session, cached[0])
        writer = index.writer(tindex.DELTA_HEAP, 1)
        tindex.apply(writer, found.live + analysed(session, found.stale), found.removed)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
    else:
        return cached[1]
    connection.info[PRIVATE_INDEX] = (revision, index)
    return index


class SearchView:
    """What one search sees: the shared index, or the session's private one."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        engine = connection.engine

        def load(brief_ids: Sequence[int]) -> dict[int, tindex.Document]:
            return documents_of(session, brief_ids)

        if connection.info.get(WROTE_DOCUMENTS) or _in_memory(engine):
            searcher = _private_index(session, connection).searcher()
        else:
            revision, _ = database_state(connection)
            searcher = shared_index(engine).searcher_at(revision)
        self.searcher = Searcher(searcher, load)


def warm(engine: Engine) -> tuple[int, int]:
    """Open this process's handle on the shared index and catch it up to the database now
    rather than at the first search (building it if it is missing or does not fit): a
    server calls it in every worker, after the fork, before it takes requests. Returns the
    revisions the index was at before (-1: none on disk) and after."""
    if _in_memory(engine):
        return -1, -1
    shared = shared_index(engine)
    with read_only(engine).connect() as connection:
        revision, _ = database_state(connection)
    with shared.lock:
        if shared.index is None:
            shared._open_current()
        before = shared.revision
    shared.searcher_at(revision)
    return before, shared.revision


def among(session: Session, plan: Plan, brief_ids: Sequence[int]) -> set[int]:
    """See SearchEngine.among: the documents of these briefs only, matched on their own
    (term statistics do not change whether a brief matches)."""
    wanted = list(dict.fromkeys(brief_ids))
    if not wanted:
        return set()
    return candidate_searcher(session, wanted).matching(plan)


def candidate_searcher(session: Session, brief_ids: Sequence[int]) -> Searcher:
    """A searcher over the documents of these briefs alone, kept for the session while the
    revision stays: the scheduler asks about the same new briefs once per term, and may
    hold this searcher itself to skip even the revision check."""
    wanted = list(dict.fromkeys(brief_ids))
    revision = session.scalar(select(SearchState.revision).where(SearchState.id == 1))
    key = ("policybot.among", revision, tuple(wanted))
    cached = session.info.get("policybot.among")
    if cached is not None and cached[0] == key:
        reused: Searcher = cached[1]
        return reused
    index = tindex.ram_index(documents_of(session, wanted).values())
    searcher = Searcher(index.searcher())
    session.info["policybot.among"] = (key, searcher)
    return searcher
