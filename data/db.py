"""Engines, sessions and migrations. Nothing here runs at import time."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from platformdirs import user_data_path
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SessionFactory = sessionmaker[Session]

# The execution option that marks a connection's transactions read-only (see reading()).
READ_ONLY = "policybot_read_only"
BUSY_TIMEOUT_MS = 10_000
SQLITE_POOL_SIZE = 64


class NestedWriteError(RuntimeError):
    """A thread asked for a second write transaction on SQLite while it holds one: the new
    one would wait for the first, which only this same thread can end."""


def default_database_url() -> str:
    """The embedded database: a SQLite file in the user's data directory."""
    directory = user_data_path("policybot", appauthor=False, ensure_exists=True)
    return f"sqlite:///{directory / 'policybot.sqlite3'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's legacy transaction handling delays BEGIN and breaks SAVEPOINTs; let
    # SQLAlchemy emit BEGIN itself (the documented recipe), so transactions mean what they say.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Wait up to 10 s for another connection's write instead of failing with "database is
    # locked"; with WAL, readers never wait for a writer and a writer waits only for writers.
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")  # a no-op (stays "memory") for :memory:
    cursor.close()


class _Line:
    """This process's writers ask SQLite for the write lock one at a time, first come first
    served. Left to SQLite's busy handler, waiters poll with growing sleeps and the newest
    often wins: under steady load a few commands waited seconds while most took
    milliseconds. The head of the line still waits in SQLite (for another process, or the
    writer now committing); someone who waits here longer than the busy timeout asks
    SQLite directly, as without the line."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._busy = False
        self._waiting: deque[threading.Event] = deque()

    @contextmanager
    def turn(self) -> Iterator[None]:
        mine = self._enter()
        try:
            yield
        finally:
            if mine:
                self._leave()

    def _enter(self) -> bool:
        with self._lock:
            if not self._busy:
                self._busy = True
                return True
            called = threading.Event()
            self._waiting.append(called)
        if called.wait(self.timeout):
            return True
        with self._lock:
            if called.is_set():  # handed the turn just as the wait ran out
                return True
            self._waiting.remove(called)
            return False

    def _leave(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # the turn passes on; never free in between
            else:
                self._busy = False


def _in_transaction(dbapi_connection: Any) -> bool:
    try:
        return bool(dbapi_connection.in_transaction)
    except Exception:  # closed: it holds nothing
        return False


class _SqliteTransactions:
    """How every transaction on a SQLite engine begins.

    A plain (deferred) BEGIN takes no lock until a statement needs one. A transaction that
    reads and then writes must upgrade its read snapshot to the write lock; when another
    connection committed since the read, SQLite refuses at once ("database is locked") and
    the busy timeout never applies: several people writing at once lost commands that way.
    So a transaction begins as a writer (BEGIN IMMEDIATE: the write lock first, waiting up
    to the busy timeout for it) unless it is explicitly read-only. Defaulting the other way
    would bring the lost writes back silently wherever a writer was not marked; a missing
    read-only mark only makes a reader wait its turn. A read-only transaction runs under
    PRAGMA query_only, so one that writes fails at its first write instead of racing.
    """

    def __init__(self) -> None:
        # Per thread: the connections whose write transactions it began, to refuse a second
        # one at once instead of waiting the busy timeout out on itself.
        self._writers = threading.local()
        self._line = _Line(BUSY_TIMEOUT_MS / 1000)
        # This process's writer now holding the lock, and a signal when its transaction ends.
        self._writing: Any = None
        self._ended = threading.Condition()

    def begin(self, connection: Connection) -> None:
        read_only = bool(connection.get_execution_options().get(READ_ONLY))
        dbapi_connection = connection.connection.driver_connection
        me = threading.get_ident()
        if not read_only:
            self._refuse_nested_write(dbapi_connection, me)
        # Who holds this connection's transaction now (the pool hands connections on), said
        # before BEGIN: from BEGIN on, the thread that held it last must not see its own
        # name on a connection in a transaction, or its next writer is refused as nested.
        connection.connection.info[_HOLDER] = (me, not read_only)
        connection.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
        if read_only:
            connection.exec_driver_sql("BEGIN")
        else:
            with self._line.turn():
                self._await_writer()
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                with self._ended:
                    self._writing = dbapi_connection
        if not read_only:
            self._held().append((dbapi_connection, connection.connection.info))

    def ended(self, connection: Connection) -> None:
        """A transaction is committing or rolling back: the next writer may go."""
        with self._ended:
            if self._writing is connection.connection.driver_connection:
                self._writing = None
                self._ended.notify_all()

    def _await_writer(self) -> None:
        """The head of the line waits here for this process's writer to finish instead of
        in SQLite's busy handler, whose sleeps (up to 100 ms) outlast most transactions.
        Should an end go unnoticed, SQLite's own state says the transaction is over."""
        deadline = time.monotonic() + self._line.timeout
        with self._ended:
            while self._writing is not None and _in_transaction(self._writing):
                left = deadline - time.monotonic()
                if left <= 0:
                    return  # SQLite's busy timeout takes over
                self._ended.wait(min(left, 0.05))
            self._writing = None

    def _held(self) -> list[tuple[Any, dict[Any, Any]]]:
        held: list[tuple[Any, dict[Any, Any]]] | None = getattr(self._writers, "held", None)
        if held is None:
            held = self._writers.held = []
        return held

    def _refuse_nested_write(self, dbapi_connection: Any, me: int) -> None:
        still = []
        for other, info in self._held():
            try:
                # In this order: a connection seen in a transaction was marked by its
                # holder before its BEGIN, so the mark read after it is that holder's.
                writing = other.in_transaction and info.get(_HOLDER) == (me, True)
            except Exception:  # closed since: it holds nothing
                continue
            if writing and other is not dbapi_connection:
                still.append((other, info))
        self._writers.held = still
        if still:
            raise NestedWriteError(
                "this thread already holds a write transaction on this SQLite database; "
                "open the outer session with reading() if it only reads"
            )


_HOLDER = "policybot_transaction_holder"


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        # One driver for PostgreSQL: psycopg 3 (the URL may omit it).
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        if parsed.database not in (None, "", ":memory:") and "poolclass" not in kwargs:
            # A connection for every thread that may use the database at once (command
            # workers, Bolt's listeners, the scheduler's): threads queueing for one of the
            # default 15 were overtaken by newcomers and some waited 20 s and more.
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        transactions = _SqliteTransactions()
        event.listen(engine, "begin", transactions.begin)
        event.listen(engine, "commit", transactions.ended)
        event.listen(engine, "rollback", transactions.ended)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def session_factory(engine: Engine) -> SessionFactory:
    """Sessions whose transactions may write (on SQLite they begin holding the write lock)."""
    return sessionmaker(engine, expire_on_commit=False)


def read_only(engine: Engine) -> Engine:
    """The same engine (and pool) for work that only reads: on SQLite its transactions do
    not queue behind writers, and a write in one fails (PRAGMA query_only)."""
    if engine.get_execution_options().get(READ_ONLY):
        return engine
    # One per engine, kept on it (a cycle the collector frees with it): code keyed on the
    # engine's identity, such as event listeners, then sees one reader, not one per call.
    found: Engine | None = engine.__dict__.get(_READ_ONLY_ENGINE)
    if found is None:
        found = engine.execution_options(**{READ_ONLY: True})
        setattr(engine, _READ_ONLY_ENGINE, found)
    return found


_READ_ONLY_ENGINE = "_policybot_read_only_engine"


def reading(sessions: SessionFactory) -> Session:
    """A session from `sessions` for work that only reads (searches, App Home, a message
    being composed): it runs beside writers instead of after them, and cannot write."""
    bind = sessions.kw.get("bind")
    if isinstance(bind, Engine):
        return sessions(bind=read_only(bind))
    return sessions()  # bound to a connection whose transaction is already open


@contextmanager
def unit_of_work(sessions: SessionFactory, *, read_only: bool = False) -> Iterator[Session]:
    """The one way this code opens a transaction: a session from `sessions` inside one
    transaction, committed when the block ends and rolled back when it raises (so bad
    input changes nothing). On SQLite a writer begins holding the write lock (BEGIN
    IMMEDIATE, see _SqliteTransactions); `read_only` work runs beside writers instead of
    after them and cannot write (see reading()). tests/bot/test_transactions.py fails on
    a session or transaction opened any other way."""
    opened = reading(sessions) if read_only else sessions()
    with opened as session, session.begin():
        yield session


@contextmanager
def rehearsal(engine: Engine) -> Iterator[SessionFactory]:
    """Sessions for a dry run: each one's transaction is a savepoint inside one outer
    transaction that is rolled back at the end, so whatever they commit is never kept."""
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield sessionmaker(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
        finally:
            outer.rollback()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("policybot.data") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (idempotent)."""
    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(_alembic_config(engine), revision)


_checking = contextvars.ContextVar("checking_migrations", default=False)


class _QuietWhileChecking(logging.Filter):
    """Drops alembic's banner ("Context impl SQLiteImpl.", "Will assume transactional DDL.")
    while pending_migrations only looks, which /readyz does at every probe. Migrations that
    run (`db upgrade`, an embedded database's start) log as before, in any thread."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _checking.get()


_QUIET_WHILE_CHECKING = _QuietWhileChecking()


@contextmanager
def _checking_quietly() -> Iterator[None]:
    alembic_log = logging.getLogger("alembic.runtime.migration")
    if _QUIET_WHILE_CHECKING not in alembic_log.filters:
        alembic_log.addFilter(_QUIET_WHILE_CHECKING)
    token = _checking.set(True)
    try:
        yield
    finally:
        _checking.reset(token)


def pending_migrations(engine: Engine) -> bool:
    script = ScriptDirectory.from_config(_alembic_config(engine))
    with _checking_quietly(), read_only(engine).connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) != set(script.get_heads())
