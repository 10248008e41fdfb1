"""Several writers on the embedded SQLite store: a transaction that reads and then writes
keeps its write while another connection commits (it begins holding the write lock), a
read-only transaction runs beside writers and cannot write, and a thread that would wait on
its own write lock is told at once.

No sleeps: the second writer's progress is observed through SQLite's statement trace."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import OperationalError

from policybot.data.db import (
    NestedWriteError,
    _Line,
    make_engine,
    read_only,
    reading,
    session_factory,
    upgrade,
)
from policybot.data.ingest.writer import ingest_bytes
from policybot.handlers.commands import COMMANDS, CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from tests.conftest import DEMO_CORPUS, NOW

JOIN_SECONDS = 30  # a safety net for a hung thread, not a schedule


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE t (n INTEGER)"))
        setup.execute(text("INSERT INTO t VALUES (1)"))
    yield engine
    engine.dispose()


def count(engine: Engine) -> int:
    with read_only(engine).connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM t")).scalar_one())


def trace(connection: Connection, on_statement: object) -> None:
    """Call `on_statement(sql)` as SQLite starts each statement on this connection."""
    connection.connection.driver_connection.set_trace_callback(on_statement)  # type: ignore[union-attr]


class OtherWriter(threading.Thread):
    """Another connection inserting a row: signals `in_line` once it is either queued for
    the write lock (its transaction began as a writer) or committed."""

    def __init__(self, engine: Engine, value: int) -> None:
        super().__init__(daemon=True)
        self.engine, self.value = engine, value
        self.in_line = threading.Event()
        self.error: BaseException | None = None

    def on_statement(self, sql: str) -> None:
        if sql.startswith(("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")):
            self.in_line.set()

    def run(self) -> None:
        try:
            with self.engine.connect() as connection:
                trace(connection, self.on_statement)
                try:
                    with connection.begin():
                        connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": self.value})
                finally:
                    trace(connection, None)
        except BaseException as error:
            self.error = error
        finally:
            self.in_line.set()


def test_a_transaction_that_reads_then_writes_keeps_its_write_while_another_commits(
    engine: Engine,
) -> None:
    # The lost upgrade: a deferred BEGIN reads (a snapshot), another connection commits, and
    # the first one's write is refused at once ("database is locked"), busy timeout or not.
    sessions = session_factory(engine)
    other = OtherWriter(engine, 2)
    with sessions() as session, session.begin():
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        other.start()
        # Either the other writer queues behind this transaction (which began holding the
        # write lock), or it commits now, after this snapshot: the case that was lost.
        assert other.in_line.wait(JOIN_SECONDS)
        session.execute(text("INSERT INTO t VALUES (3)"))
    other.join(JOIN_SECONDS)
    assert not other.is_alive() and other.error is None
    assert count(engine) == 3


def test_a_reader_reads_while_a_writer_holds_the_lock(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions() as writer, writer.begin():
        writer.execute(text("INSERT INTO t VALUES (2)"))
        # Same thread: a reader that took the write lock would be refused at once
        # (NestedWriteError) rather than wait for this writer.
        with reading(sessions) as reader:
            assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    assert count(engine) == 2


def test_a_read_only_transaction_cannot_write_and_its_connection_writes_afterwards(
    tmp_path: Path,
) -> None:
    # One pooled connection: the writer below gets the very connection the reader used.
    engine = make_engine(f"sqlite:///{tmp_path / 'one.sqlite3'}", pool_size=1, max_overflow=0)
    try:
        with engine.begin() as setup:
            setup.execute(text("CREATE TABLE t (n INTEGER)"))
        sessions = session_factory(engine)
        with pytest.raises(OperationalError, match="readonly"), reading(sessions) as reader:
            reader.execute(text("INSERT INTO t VALUES (1)"))
            reader.commit()
        with sessions() as writer, writer.begin():
            writer.execute(text("INSERT INTO t VALUES (2)"))
        with read_only(engine).connect() as connection:
            assert connection.execute(text("SELECT n FROM t")).scalars().all() == [2]
    finally:
        engine.dispose()


def test_a_second_write_transaction_in_one_thread_is_refused_at_once(engine: Engine) -> None:
    # It would wait the whole busy timeout for the first, which only this thread can end.
    sessions = session_factory(engine)
    with sessions() as outer, outer.begin():
        outer.execute(text("SELECT count(*) FROM t"))
        with pytest.raises(NestedWriteError), sessions() as inner, inner.begin():
            inner.execute(text("INSERT INTO t VALUES (2)"))
        outer.execute(text("INSERT INTO t VALUES (3)"))
    assert count(engine) == 2
    # The guard forgets a transaction once it ends.
    with sessions() as again, again.begin():
        again.execute(text("INSERT INTO t VALUES (4)"))
    assert count(engine) == 3


def test_a_connection_another_thread_now_writes_on_is_not_this_threads(engine: Engine) -> None:
    # This thread writes on a connection and returns it; another thread takes the same
    # pooled connection and holds a write transaction on it. A new writer here must wait for
    # that thread (not be refused as if it held the lock itself).
    with engine.begin() as first:
        first.execute(text("INSERT INTO t VALUES (2)"))
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with engine.begin() as connection:  # the connection this thread just returned
                connection.execute(text("INSERT INTO t VALUES (3)"))
                holding.set()
                assert release.wait(JOIN_SECONDS)
        except BaseException as error:
            errors.append(error)
            holding.set()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert holding.wait(JOIN_SECONDS) and not errors

    def queued(sql: str) -> None:
        if sql.startswith("BEGIN IMMEDIATE"):
            release.set()  # this writer is in line: let the other one commit

    with engine.connect() as mine:
        trace(mine, queued)
        with mine.begin():
            mine.execute(text("INSERT INTO t VALUES (4)"))
        trace(mine, None)
    holder.join(JOIN_SECONDS)
    assert not errors
    assert count(engine) == 4


def test_a_connection_another_thread_is_beginning_on_is_not_this_threads(engine: Engine) -> None:
    # This thread writes on a connection and returns it; another thread takes it and has
    # just begun a transaction on it (SQLite's in_transaction is true) when this thread
    # asks for a write. The connection is the other thread's from before its BEGIN: seen
    # as this thread's, the write was refused as nested (the ticker's mark_sent after a
    # post, twice in a day's alerts for 10,000 rules).
    with engine.begin() as first:
        first.execute(text("INSERT INTO t VALUES (2)"))
        written_on = first.connection.driver_connection
    begun, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            with read_only(engine).connect() as connection:
                assert connection.connection.driver_connection is written_on

                def after_begin(*args: object) -> None:
                    if args[2] == "BEGIN":  # the statement: now in a transaction
                        begun.set()
                        assert release.wait(JOIN_SECONDS)

                event.listen(connection, "after_cursor_execute", after_begin)
                with connection.begin():
                    connection.execute(text("SELECT count(*) FROM t"))
        except BaseException as error:
            errors.append(error)
        finally:
            begun.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert begun.wait(JOIN_SECONDS) and not errors
        with engine.begin() as mine:  # another pooled connection: the reader holds that one
            mine.execute(text("INSERT INTO t VALUES (3)"))
    finally:
        release.set()
        reader.join(JOIN_SECONDS)
    assert not reader.is_alive() and not errors
    assert count(engine) == 3


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A committed database with the demo corpus and a subscription (engine-bound sessions,
    as the server has: a test transaction would hide the read-only mode)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'commands.sqlite3'}")
        upgrade(engine)
    else:
        engine = make_engine(request.getfixturevalue("fresh_postgres_url"))
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, NOW)
        subscribe(
            Request(session, Context(now=NOW, team_id="T1", channel_id="C1"), "storage daily", 1)
        )
    yield engine
    engine.dispose()


def test_every_read_only_command_runs_its_examples(seeded: Engine) -> None:
    # A command marked read-only that wrote would fail here on SQLite (query_only).
    runner = CommandRunner(session_factory(seeded))
    ctx = Context(now=datetime(2026, 12, 1, 9, 0, tzinfo=UTC), team_id="T1", channel_id="C1")
    ran = 0
    for spec in COMMANDS:
        if not spec.read_only:
            continue
        for example in spec.examples:
            runner.run(example, ctx)
            ran += 1
    assert ran >= 20


def test_writers_of_one_process_take_the_write_lock_in_arrival_order() -> None:
    # Left to SQLite's busy handler, waiters poll with growing sleeps and newcomers overtake
    # them: with 32 writers some waited past the busy timeout and failed.
    line = _Line(timeout=JOIN_SECONDS)
    order: list[str] = []
    holder = line.turn()
    holder.__enter__()

    def writer(name: str) -> None:
        with line.turn():
            order.append(name)

    threads = []
    for n, name in enumerate(("second", "third", "fourth")):
        thread = threading.Thread(target=writer, args=(name,), daemon=True)
        thread.start()
        threads.append(thread)
        until_waiting(line, n + 1)
    holder.__exit__(None, None, None)
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert order == ["second", "third", "fourth"]
    with line.turn():  # free again
        pass


def test_a_writer_that_waited_out_the_line_goes_to_sqlite_and_the_line_stays_whole() -> None:
    line = _Line(timeout=0.01)
    holder = line.turn()
    holder.__enter__()
    with line.turn():  # waited its timeout, went on without the turn
        assert len(line._waiting) == 0
    holder.__exit__(None, None, None)
    taken = threading.Event()

    def writer() -> None:
        with line.turn():
            taken.set()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    assert taken.wait(JOIN_SECONDS)  # the line is free: no turn was lost with the waiter
    thread.join(JOIN_SECONDS)


def until_waiting(line: _Line, count: int) -> None:
    deadline = time.monotonic() + JOIN_SECONDS
    while len(line._waiting) < count:
        assert time.monotonic() < deadline, "a writer never joined the line"
        time.sleep(0.001)
