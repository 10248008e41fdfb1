"""The one search index of a database on this machine, shared by every process.

It lives on disk (memory-mapped by tantivy) in the database's index directory:
POLICYBOT_INDEX_DIR if set, else beside the SQLite file, else under the user's data
directory; in every case in a subdirectory named by the database's identity (a random id
stored in `search_state`), so two databases never share one. Inside: `CURRENT` names the
generation directory in use, `lock` serialises the processes that write it.

The database stays the source of truth. A process opening the index reads the revision it
reflects (its state document) and the database's; when the database is ahead it takes the
lock, applies the documents of the newer revisions (only those), commits, and reloads; a
process that finds the lock taken waits, then reloads what the other one applied. An index
that is missing, unreadable, or built for another database, schema or analysis version is
rebuilt from `search_documents` into a new generation, and `CURRENT` moves to it at once
(readers of the old one keep it until they next catch up).

Opening is cheap (no document is read when the index is current), and fork-safe: a process
never uses an index opened by its parent (tantivy's threads do not survive a fork).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tantivy
from platformdirs import user_data_path
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.orm import Session

from ..db import read_only
from ..models import SearchDocument, SearchState
from . import index as tindex
from .analysis import ANALYSIS_VERSION
from .rows import (
    COLUMNS,
    analysed,
    document_of,
    every_document,
    with_goals,
)

ENV = "POLICYBOT_INDEX_DIR"
# Reading a broken index raises tantivy's errors, or its Rust panics, which reach Python as
# pyo3's PanicException: a BaseException (its module exists only once one happened).
_INTERRUPTS = (KeyboardInterrupt, SystemExit, GeneratorExit)
_configured: Path | None = None


def configure(directory: str | Path | None) -> None:
    """Where indexes live (the settings' POLICYBOT_INDEX_DIR); None: the defaults."""
    global _configured
    _configured = Path(directory).expanduser() if directory else None


def index_root(engine: Engine) -> Path:
    """The directory holding this database's index directories (one per identity)."""
    if _configured is not None:
        return _configured
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database)).expanduser().resolve()
        return path.with_name(path.name + ".search-index")
    # One directory per server and database name; the identity below it tells apart two
    # databases that took the same name in turn.
    where = url.set(password=None).render_as_string(hide_password=True)
    server = hashlib.sha256(where.encode()).hexdigest()[:12]
    return user_data_path("policybot", appauthor=False) / "search-index" / server


def database_state(connection: Connection) -> tuple[int, str | None]:
    """The database's search revision and identity (None: not given one yet)."""
    row = connection.execute(
        select(SearchState.revision, SearchState.identity).where(SearchState.id == 1)
    ).first()
    if row is None:
        return 0, None
    return int(row[0] or 0), row[1]


def database_identity(engine: Engine) -> str:
    """The database's identity, given it now (in its own transaction) if it has none."""
    with read_only(engine).connect() as connection:
        _, identity = database_state(connection)
    if identity is not None:
        return identity
    with engine.begin() as connection:
        if connection.execute(select(SearchState.id).where(SearchState.id == 1)).first() is None:
            connection.execute(insert(SearchState).values(id=1, revision=0))
        connection.execute(
            update(SearchState)
            .where(SearchState.id == 1, SearchState.identity.is_(None))
            .values(identity=uuid.uuid4().hex)
        )
    with read_only(engine).connect() as connection:
        _, identity = database_state(connection)
    assert identity is not None
    return identity


class SharedIndex:
    """This process's handle on the database's index, and the revision its searcher is at."""

    def __init__(self, engine: Engine, identity: str) -> None:
        self.engine = engine
        self.identity = identity
        self.directory = index_root(engine) / identity
        self.lock = threading.RLock()
        self.pid = os.getpid()
        self.generation: str | None = None
        self.index: tantivy.Index | None = None
        self.searcher: tantivy.Searcher | None = None
        self.revision = -1
        # What this handle did (for logs and tests): full builds, documents applied.
        self.builds = 0
        self.applied = 0

    # --- on disk -----------------------------------------------------------------------------

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """The machine-wide writer lock of this index (waits for another process's turn)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _current_generation(self) -> str | None:
        try:
            name = (self.directory / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def _open_current(self) -> bool:
        """Open the generation CURRENT names, if it is there, readable and fits."""
        generation = self._current_generation()
        if generation is None or not (self.directory / generation).is_dir():
            return False
        try:
            index = tindex.prepared(tantivy.Index.open(str(self.directory / generation)))
            index.reload()
            searcher = index.searcher()
            state = tindex.read_state(searcher)
        except _INTERRUPTS:
            raise
        except BaseException:
            return False  # unreadable (a broken copy, an older tantivy): rebuilt
        if state is None or not state.fits(self.identity):
            return False
        self.generation, self.index, self.searcher = generation, index, searcher
        self.revision = state.revision
        return True

    def _reload(self) -> None:
        """Take up what another process committed to the generation in use."""
        assert self.index is not None
        try:
            self.index.reload()
            searcher = self.index.searcher()
            state = tindex.read_state(searcher)
        except _INTERRUPTS:
            raise
        except BaseException:
            return  # a merge removed a file mid-reload: the next catch-up tries again
        if state is not None:
            self.searcher, self.revision = searcher, state.revision

    def _rebuild(self) -> None:
        """A new generation from every document in the database; CURRENT moves to it."""
        generation = f"gen-{uuid.uuid4().hex[:12]}"
        path = self.directory / generation
        path.mkdir(parents=True)
        index = tindex.prepared(tantivy.Index(tindex.SCHEMA, str(path)))
        writer = index.writer(tindex.BUILD_HEAP, 1)
        with read_only(self.engine).connect() as connection:
            revision, _ = database_state(connection)
            # One read transaction: on SQLite a snapshot; on PostgreSQL (read committed)
            # later rows may come in too, which is harmless: a later catch-up re-applies
            # every document of a revision after `revision`.
            seen: set[int] = set()
            for document in every_document(connection, seen):
                writer.add_document(tindex.as_tantivy(document))
            connection.rollback()
        writer.add_document(tindex.state_document(revision, self.identity))
        writer.commit()
        writer.wait_merging_threads()
        temporary = self.directory / f"CURRENT.{os.getpid()}"
        temporary.write_text(generation)
        os.replace(temporary, self.directory / "CURRENT")
        for old in self.directory.glob("gen-*"):
            if old.name != generation:
                shutil.rmtree(old, ignore_errors=True)  # readers keep their mapped files
        if not self._open_current():
            raise RuntimeError(f"the search index just built in {path} cannot be opened")
        self.builds += 1

    def _apply_changes(self) -> None:
        """Apply the documents of every revision after ours (called holding the lock),
        streamed: a bulk ingest is caught up in bounded memory."""
        assert self.index is not None
        writer = self.index.writer(tindex.DELTA_HEAP, 1)
        applied = 0
        with read_only(self.engine).connect() as connection:
            revision, _ = database_state(connection)
            newest = self.revision
            stale: list[int] = []
            live: list[tindex.Document] = []  # given their goals a batch at a time
            rows = select(*COLUMNS).where(SearchDocument.revision > self.revision)
            for row in connection.execute(rows.execution_options(yield_per=2000)):
                newest = max(newest, int(row[1]))
                if row[2]:
                    applied += tindex.apply(writer, (), (int(row[0]),))
                elif row[3] != ANALYSIS_VERSION:
                    stale.append(int(row[0]))
                else:
                    live.append(document_of(row))
                    if len(live) >= 500:
                        applied += tindex.apply(writer, with_goals(connection, live), ())
                        live = []
            applied += tindex.apply(writer, with_goals(connection, live), ())
            session = Session(bind=connection)
            for start in range(0, len(stale), 500):
                applied += tindex.apply(writer, analysed(session, stale[start : start + 500]), ())
            connection.rollback()
        target = max(revision, newest)
        if target <= self.revision:
            writer.rollback()
            return
        writer.delete_documents_by_term("brief_id", tindex.STATE_ID)
        writer.add_document(tindex.state_document(target, self.identity))
        writer.commit()
        writer.wait_merging_threads()
        self.applied += applied
        self._reload()

    # --- what a search calls -------------------------------------------------------------------

    def searcher_at(self, revision: int) -> tantivy.Searcher:
        """A searcher that reflects at least `revision` of the database."""
        with self.lock:
            if self.searcher is not None and self.revision >= revision:
                return self.searcher
            if self.index is None and self._open_current() and self.revision >= revision:
                assert self.searcher is not None
                return self.searcher
            if self.index is not None:
                self._reload()
                if self.revision >= revision:
                    assert self.searcher is not None
                    return self.searcher
            with self._exclusive():
                # Another process may have caught up, or rebuilt, while we waited.
                if self.generation != self._current_generation() or self.index is None:
                    self.index = self.searcher = None
                    if not self._open_current():
                        self._rebuild()
                else:
                    self._reload()
                if self.revision < revision:
                    self._apply_changes()
            assert self.searcher is not None
            return self.searcher


_REGISTRY: dict[tuple[int, str], SharedIndex] = {}
_REGISTRY_LOCK = threading.Lock()


def shared_index(engine: Engine) -> SharedIndex:
    """This process's handle on the engine's database index (a forked child opens its own)."""
    key = (os.getpid(), engine.url.render_as_string(hide_password=False))
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(key)
        if found is None:
            if any(pid != key[0] for pid, _ in _REGISTRY):  # inherited across a fork
                _REGISTRY.clear()
            found = _REGISTRY[key] = SharedIndex(engine, database_identity(engine))
    return found
