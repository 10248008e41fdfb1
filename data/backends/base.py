"""The interface every database backend implements."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select, Table
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import Insert

_Select = TypeVar("_Select", bound=Select[Any])
_FILL_CHUNK = 5_000


class Backend(ABC):
    name: str

    @abstractmethod
    def insert_ignoring_duplicates(
        self, target: type[DeclarativeBase] | Table, unique: Sequence[str]
    ) -> Insert:
        """INSERT that skips rows whose `unique` columns already exist (no error)."""

    @abstractmethod
    def insert_or_update(
        self, target: type[DeclarativeBase] | Table, unique: Sequence[str], update: Sequence[str]
    ) -> Insert:
        """INSERT that, where a row with the same `unique` columns exists, sets its `update`
        columns to the inserted values instead: one atomic statement, so two writers racing
        for one key both succeed (the later one wins) instead of one failing."""

    @abstractmethod
    def lock_for_claim(self, statement: _Select) -> _Select:
        """The statement locking the rows it reads against other claimers, skipping rows
        another transaction holds (a no-op where one process writes at a time)."""

    def in_memory(self, engine: Engine) -> bool:
        """Whether the database lives in this process's memory only (each engine its own)."""
        return False

    @abstractmethod
    def leader_lock(self, engine: Engine, key: int) -> AbstractContextManager[bool]:
        """Try to become the one process acting for `key`; yields whether this one is."""

    @abstractmethod
    def stale_tables(self, connection: Connection, tables: Sequence[str]) -> list[str]:
        """Those of `tables` whose planner statistics (and, where the engine has one, the
        visibility map) lag far behind what was written to them since."""

    def fill_table(
        self, connection: Connection, table: Table, rows: Iterable[Sequence[object]]
    ) -> None:
        """Write many rows (tuples in the table's column order) into a table of plain values,
        such as a planner's temporary table: no types to convert, no conflicts."""
        pending = iter(rows)
        names = [column.name for column in table.columns]
        while chunk := list(itertools.islice(pending, _FILL_CHUNK)):
            connection.execute(
                table.insert(), [dict(zip(names, row, strict=True)) for row in chunk]
            )

    def insert_rows(
        self, connection: Connection, table: Table, rows: Sequence[dict[str, Any]]
    ) -> None:
        """Insert new rows (dicts with the same keys; no conflicts) the fastest way the
        engine has, values converted by the columns' types as any insert converts them."""
        if rows:
            connection.execute(table.insert(), list(rows))

    def insert_rows_ignoring_duplicates(
        self,
        connection: Connection,
        table: Table,
        rows: Sequence[dict[str, Any]],
        unique: Sequence[str],
    ) -> None:
        """Insert many rows (dicts with the same keys), skipping those whose `unique` columns
        already exist, the fastest way the engine has; values converted by the columns' types
        as any insert converts them."""
        if rows:
            connection.execute(self.insert_ignoring_duplicates(table, unique), list(rows))

    def analyze_filled(self, connection: Connection, tables: Sequence[Table]) -> None:
        """Give the planner statistics for tables just filled (temporary tables get none by
        themselves). SQLite plans them well from their primary keys alone."""
        return

    @abstractmethod
    def maintain(self, engine: Engine, tables: Sequence[str]) -> None:
        """Refresh those tables' statistics (VACUUM ANALYZE where the engine has it)."""
