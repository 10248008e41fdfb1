"""Each process's in-process index of a database, kept in step with it.

The index of a database is built from its search documents at the first search (at 100,000
briefs this takes seconds: the cost of a cold start) and then follows the database: before
each search the documents of revisions it has not seen are read (none, usually: one indexed
query) and applied as a new segment. A search in a transaction that wrote documents itself
(ingestion, tests) sees them too: they are read through its own session and searched beside
the shared index, which never takes in uncommitted documents.

Briefs without a document of the current analysis (stored before search documents existed,
or analysed by an older version) are analysed from the brief while the index is built, so
a stale or missing index never loses a search.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from sqlalchemy import Connection, Engine, event, select
from sqlalchemy.orm import Session

from policybot.data.backends import backend_for
from policybot.data.db import read_only
from policybot.data.models import Brief, SearchDocument, SearchState
from policybot.data.search.analysis import ANALYSIS_VERSION
from policybot.data.search.documents import WROTE_DOCUMENTS, IndexedFields, document_row, metadata
from policybot.data.search.index import Document, Index
from policybot.data.search.ranking import Part, Plan, Searcher

_COLUMNS = (
    SearchDocument.brief_id,
    SearchDocument.revision,
    SearchDocument.deleted,
    SearchDocument.analysis,
    SearchDocument.kind,
    SearchDocument.published_on,
    SearchDocument.body_ids,
    SearchDocument.due_years,
    SearchDocument.title,
    SearchDocument.bodies,
    SearchDocument.body,
    SearchDocument.comment,
)


def _document(row: Sequence[object]) -> Document:
    published = row[5]
    return Document(
        brief_id=int(str(row[0])),
        fields=(str(row[8]), str(row[9]), str(row[10]), str(row[11])),
        kind=str(row[4]),
        published=published.toordinal() if isinstance(published, date) else -1,
        body_ids=tuple(int(i) for i in str(row[6]).split()),
        due_years=tuple(int(y) for y in str(row[7]).split()),
    )


def _documents(
    connection: Connection | Session, after: int, upto: int | None
) -> tuple[list[Document], list[int], list[int]]:
    """Documents of revisions in (after, upto]: (live documents, removed ids, ids whose
    stored analysis is out of date)."""
    statement = select(*_COLUMNS).where(SearchDocument.revision > after)
    if upto is not None:
        statement = statement.where(SearchDocument.revision <= upto)
    live: list[Document] = []
    removed: list[int] = []
    stale: list[int] = []
    for row in connection.execute(statement):
        if row[2]:
            removed.append(int(row[0]))
        elif row[3] != ANALYSIS_VERSION:
            stale.append(int(row[0]))
        else:
            live.append(_document(row))
    return live, removed, stale


def _analysed(session: Session, brief_ids: Iterable[int]) -> list[Document]:
    """Documents made from the briefs themselves (not stored)."""
    from policybot.data.search.fields import indexed_fields

    ids = list(brief_ids)
    out: list[Document] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        meta = metadata(session, chunk)
        for brief in session.scalars(select(Brief).where(Brief.id.in_(chunk))):
            fields: IndexedFields = indexed_fields(brief)
            row = document_row(brief.id, fields, meta.get(brief.id, {}), 0)
            out.append(_document([row[c.key] for c in _COLUMNS]))
    return out


class LiveIndex:
    """The index of one database in this process, and the revision it has reached."""

    def __init__(self) -> None:
        self.index = Index()
        self.revision = -1  # not built
        self.lock = threading.RLock()
        self.searcher: Searcher | None = None

    def refresh(self, connection: Connection, session: Session) -> None:
        """Read what was committed since the last refresh (everything, the first time)."""
        current = connection.scalar(select(SearchState.revision).where(SearchState.id == 1)) or 0
        if current == self.revision:
            return
        if self.revision < 0:
            self._build(connection, session, current)
        else:
            live, removed, stale = _documents(connection, self.revision, current)
            if stale:
                live += _analysed(session, stale)
            self.index.apply(live, removed)
        self.revision = current
        self.searcher = None

    def _build(self, connection: Connection, session: Session, upto: int) -> None:
        """The base segment from every current document, streamed from the database."""
        self.index = Index()
        seen: set[int] = set()
        stale: list[int] = []

        def current_documents() -> Iterator[Document]:
            statement = select(*_COLUMNS).where(SearchDocument.revision <= upto)
            for row in connection.execute(statement.execution_options(yield_per=2000)):
                seen.add(int(row[0]))
                if row[2]:
                    continue
                if row[3] != ANALYSIS_VERSION:
                    stale.append(int(row[0]))
                else:
                    yield _document(row)

        self.index.load(current_documents())
        # Briefs stored before search documents existed (until `policybot db upgrade` writes
        # theirs), or analysed by an older version: analysed here, never lost.
        missing = [i for i in connection.scalars(select(Brief.id)) if i not in seen]
        if stale or missing:
            self.index.apply(_analysed(session, [*stale, *missing]))

    def shared_searcher(self) -> Searcher:
        """The searcher of the committed index (its statistics cached until a refresh)."""
        searcher = self.searcher
        if searcher is None:
            parts = [Part(self.index, s, s.live) for s in self.index.segments]
            searcher = self.searcher = Searcher(parts)
        return searcher


_REGISTRY: dict[str, LiveIndex] = {}
_REGISTRY_LOCK = threading.Lock()
_WATCHED: set[int] = set()


def _forget_writes(connection: Connection) -> None:
    connection.info.pop(WROTE_DOCUMENTS, None)


def _watch(engine: Engine) -> None:
    """Clear the `wrote documents` mark when a transaction ends."""
    if id(engine) in _WATCHED:
        return
    with _REGISTRY_LOCK:
        if id(engine) not in _WATCHED:
            event.listen(engine, "commit", _forget_writes)
            event.listen(engine, "rollback", _forget_writes)
            _WATCHED.add(id(engine))


def live_index(engine: Engine) -> LiveIndex:
    key = engine.url.render_as_string(hide_password=False)
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(key)
        if found is None:
            found = _REGISTRY[key] = LiveIndex()
    return found


def warm(engine: Engine) -> tuple[int, int]:
    """Build this process's index of the engine's database now rather than at the first
    search, or catch up one it already has (inherited across a fork, say): a server calls it
    before it takes requests. Returns the revisions before (-1: none) and after."""
    live = live_index(engine)
    with Session(read_only(engine)) as session, live.lock:
        before = live.revision
        live.refresh(session.connection(), session)
        live.shared_searcher()  # its statistics too
        return before, live.revision


def _in_memory(engine: Engine) -> bool:
    return backend_for(engine).in_memory(engine)


class SearchView:
    """What one search sees: the shared index, and the session's own uncommitted documents."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        engine = connection.engine
        _watch(engine)
        self.live = live_index(engine)
        wrote = bool(connection.info.get(WROTE_DOCUMENTS))
        self.overlay: Index | None = None
        with self.live.lock:
            if _in_memory(engine):
                # No second connection sees this database: the session's view is the index.
                self.live.index, self.live.revision, self.live.searcher = Index(), -1, None
                self.live.refresh(connection, session)
            elif wrote:
                with read_only(engine).connect() as committed:
                    self.live.refresh(committed, session)
            else:
                self.live.refresh(connection, session)
            if wrote and not _in_memory(engine):
                own, removed, stale = _documents(session, self.live.revision, None)
                own += _analysed(session, stale)
                self.overlay = Index()
                self.overlay.apply(own)
                self.shadowed = {d.brief_id for d in own} | set(removed)
            else:
                self.shadowed = set()
            if self.overlay is None and not self.shadowed:
                self.searcher = self.live.shared_searcher()
            else:
                self.searcher = Searcher(self._parts())

    def _parts(self) -> list[Part]:
        parts = []
        for segment in self.live.index.segments:
            visible = segment.live.copy()
            if self.shadowed:
                for brief_id in self.shadowed:
                    slot = segment.slot(brief_id)
                    if slot is not None:
                        visible[slot] = False
            parts.append(Part(self.live.index, segment, visible))
        if self.overlay is not None:
            parts += [Part(self.overlay, s, s.live) for s in self.overlay.segments]
        return parts


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
    documents: list[Document] = []
    stale: list[int] = []
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(*_COLUMNS).where(SearchDocument.brief_id.in_(wanted[start : start + 500]))
        )
        for row in rows:
            if row[2]:
                continue
            if row[3] != ANALYSIS_VERSION:
                stale.append(int(row[0]))
            else:
                documents.append(_document(row))
    have = {d.brief_id for d in documents}
    stale += [i for i in wanted if i not in have and i not in stale]
    documents += _analysed(session, stale)
    index = Index()
    index.apply(documents)
    searcher = Searcher([Part(index, s, s.live) for s in index.segments])
    session.info["policybot.among"] = (key, searcher)
    return searcher
