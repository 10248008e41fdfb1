"""Search documents as the database stores them, read into index documents.

Every index (the shared one on disk, a transaction's private one, a few candidates') reads
its documents here. A brief without a document of the current analysis (stored before
search documents existed, or analysed by an older version) is analysed from the brief
itself, so a stale or missing document never loses a search.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ..models import Brief, Goal, SearchDocument
from .analysis import ANALYSIS_VERSION
from .documents import IndexedFields, document_row, metadata
from .index import Document

COLUMNS = (
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
_CHUNK = 500
_BATCH = 5000  # documents given their goals at a time (in IN lists of _CHUNK ids)


def document_of(row: Sequence[object]) -> Document:
    published = row[5]
    return Document(
        brief_id=int(str(row[0])),
        fields=(str(row[8]), str(row[9]), str(row[10]), str(row[11])),
        kind=str(row[4]),
        published=published.toordinal() if isinstance(published, date) else -1,
        body_ids=tuple(int(i) for i in str(row[6]).split()),
        due_years=tuple(int(y) for y in str(row[7]).split()),
    )


def with_goals(connection: Connection | Session, documents: Sequence[Document]) -> list[Document]:
    """These documents with their briefs' deadlines (Document.deadlines), read from the goals
    as this connection sees them now. Every change to a goal re-indexes its brief (ingestion
    writes the goals, then the brief's document), so a later revision brings later goals."""
    wanted = sorted({d.brief_id for d in documents})
    found: dict[int, list[tuple[str, int, int]]] = {}
    # Core rows on the session's connection: index building, not an ORM read of the goals.
    core = connection.connection() if isinstance(connection, Session) else connection
    for start in range(0, len(wanted), _CHUNK):
        rows = core.execute(
            select(Goal.brief_id, Goal.kind, Goal.due_on, Goal.id).where(
                Goal.brief_id.in_(wanted[start : start + _CHUNK]), Goal.due_on.is_not(None)
            )
        )
        for brief_id, kind, due_on, goal_id in rows:
            if due_on is not None:
                goal = (str(kind), due_on.toordinal(), int(goal_id))
                found.setdefault(int(brief_id), []).append(goal)
    return [replace(d, deadlines=tuple(sorted(found.get(d.brief_id, ())))) for d in documents]


@dataclass
class Changes:
    """Documents of a range of revisions: live ones, removed briefs, and briefs whose stored
    analysis is out of date (to analyse from the brief); the highest revision seen."""

    live: list[Document] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    newest: int = 0

    def add(self, row: Sequence[object]) -> None:
        self.newest = max(self.newest, int(str(row[1])))
        if row[2]:
            self.removed.append(int(str(row[0])))
        elif row[3] != ANALYSIS_VERSION:
            self.stale.append(int(str(row[0])))
        else:
            self.live.append(document_of(row))


def changes(connection: Connection | Session, after: int) -> Changes:
    """Documents of revisions after `after`, as this connection sees them."""
    out = Changes(newest=after)
    for row in connection.execute(select(*COLUMNS).where(SearchDocument.revision > after)):
        out.add(row)
    out.live = with_goals(connection, out.live)
    return out


def every_document(connection: Connection | Session, seen: set[int]) -> Iterator[Document]:
    """Every current document, streamed; `seen` collects the ids of every row read (live,
    removed or stale), so the caller can find the briefs that have none."""
    statement = select(*COLUMNS).execution_options(yield_per=2000)
    stale: list[int] = []
    batch: list[Document] = []
    # Streamed (bounded memory); the goals of each batch are read beside the open cursor.
    for row in connection.execute(statement):
        brief_id = int(row[0])
        seen.add(brief_id)
        if row[2]:
            continue
        if row[3] != ANALYSIS_VERSION:
            stale.append(brief_id)
        else:
            batch.append(document_of(row))
            if len(batch) >= _BATCH:
                yield from with_goals(connection, batch)
                batch = []
    yield from with_goals(connection, batch)
    session = connection if isinstance(connection, Session) else Session(bind=connection)
    missing = [i for i in session.scalars(select(Brief.id)) if i not in seen]
    yield from analysed(session, [*stale, *missing])


def analysed(session: Session, brief_ids: Iterable[int]) -> list[Document]:
    """Documents made from the briefs themselves (not stored)."""
    from .fields import indexed_fields

    ids = list(brief_ids)
    out: list[Document] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        meta = metadata(session, chunk)
        for brief in session.scalars(select(Brief).where(Brief.id.in_(chunk))):
            fields: IndexedFields = indexed_fields(brief)
            row = document_row(brief.id, fields, meta.get(brief.id, {}), 0)
            out.append(document_of([row[c.key] for c in COLUMNS]))
    return with_goals(session, out)


def documents_of(session: Session, brief_ids: Sequence[int]) -> dict[int, Document]:
    """The current documents of these briefs (removed ones left out)."""
    found: dict[int, Document] = {}
    stale: list[int] = []
    removed: set[int] = set()
    wanted = list(dict.fromkeys(brief_ids))
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(*COLUMNS).where(SearchDocument.brief_id.in_(wanted[start : start + _CHUNK]))
        )
        for row in rows:
            if row[2]:
                removed.add(int(row[0]))
            elif row[3] != ANALYSIS_VERSION:
                stale.append(int(row[0]))
            else:
                found[int(row[0])] = document_of(row)
    found = {d.brief_id: d for d in with_goals(session, list(found.values()))}
    stale += [i for i in wanted if i not in found and i not in removed and i not in stale]
    for document in analysed(session, stale):
        found[document.brief_id] = document
    return found
