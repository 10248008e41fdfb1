"""SQLite, the embedded default: one process writes at a time, so claims need no row locks
and the one scheduler is always the leader."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select, Table, text
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import Insert

from .base import Backend

_Select = TypeVar("_Select", bound=Select[Any])


class SqliteBackend(Backend):
    name = "sqlite"

    def fill_table(
        self, connection: Connection, table: Table, rows: Iterable[Sequence[object]]
    ) -> None:
        # The driver's executemany over plain tuples: SQLAlchemy's per-row parameter
        # processing cost ten times the insert for a planner's hundred thousand rows.
        preparer = connection.dialect.identifier_preparer
        names = ", ".join(preparer.quote(column.name) for column in table.columns)
        marks = ", ".join("?" for _ in table.columns)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(
                f"INSERT INTO {preparer.format_table(table)} ({names}) VALUES ({marks})",
                rows,  # type: ignore[arg-type]  # sqlite3 takes any iterable of rows
            )
        finally:
            cursor.close()

    def insert_ignoring_duplicates(
        self, target: type[DeclarativeBase] | Table, unique: Sequence[str]
    ) -> Insert:
        return insert(target).on_conflict_do_nothing(index_elements=list(unique))

    def insert_or_update(
        self, target: type[DeclarativeBase] | Table, unique: Sequence[str], update: Sequence[str]
    ) -> Insert:
        statement = insert(target)
        return statement.on_conflict_do_update(
            index_elements=list(unique), set_={name: statement.excluded[name] for name in update}
        )

    def in_memory(self, engine: Engine) -> bool:
        return engine.url.database in (None, "", ":memory:")

    def lock_for_claim(self, statement: _Select) -> _Select:
        return statement  # a write transaction on SQLite already excludes other writers

    @contextmanager
    def leader_lock(self, engine: Engine, key: int) -> Iterator[bool]:
        yield True

    def stale_tables(self, connection: Connection, tables: Sequence[str]) -> list[str]:
        # SQLite keeps no write counters; its query planner does well without statistics,
        # which ANALYZE would add. Nothing here goes stale the way PostgreSQL's tables do.
        return []

    def maintain(self, engine: Engine, tables: Sequence[str]) -> None:
        with engine.begin() as connection:
            for table in tables:
                connection.execute(text(f'ANALYZE "{table}"'))


BACKEND = SqliteBackend()
