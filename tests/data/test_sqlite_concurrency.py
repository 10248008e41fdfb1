"""The embedded SQLite database under concurrent use: WAL and a busy timeout, so a tick that
writes while commands read (or another process writes) waits instead of failing."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from policybot.data.db import make_engine, read_only


def test_file_database_runs_in_wal_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    finally:
        engine.dispose()


def test_a_writer_commits_while_a_reader_holds_its_snapshot(tmp_path: Path) -> None:
    # In the rollback-journal mode the commit below needs the reader gone: it would wait out
    # the whole busy timeout and then fail with "database is locked".
    engine = make_engine(f"sqlite:///{tmp_path / 'readers.sqlite3'}")
    try:
        with engine.begin() as setup:
            setup.execute(text("CREATE TABLE t (n INTEGER)"))
            setup.execute(text("INSERT INTO t VALUES (1)"))
        with read_only(engine).connect() as reader, reader.begin():
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1
            started = time.monotonic()
            with engine.begin() as writer:
                writer.execute(text("INSERT INTO t VALUES (2)"))
            assert time.monotonic() - started < 2.0
            # The reader keeps its consistent snapshot until its transaction ends.
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1
        with engine.connect() as after:
            assert after.execute(text("SELECT count(*) FROM t")).scalar() == 2
    finally:
        engine.dispose()
