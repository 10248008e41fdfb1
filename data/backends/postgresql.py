"""PostgreSQL, the production engine: several replicas share one database, so claims lock
rows (`FOR UPDATE SKIP LOCKED`) and a session-level advisory lock elects one leader."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Engine, MetaData, Select, Table, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import Insert

from .base import Backend

_Select = TypeVar("_Select", bound=Select[Any])


class PostgresBackend(Backend):
    name = "postgresql"

    def analyze_filled(self, connection: Connection, tables: Sequence[Table]) -> None:
        # Autovacuum never analyzes temporary tables; without statistics the planner took a
        # join of a few thousand rows for two and nested-looped 1.4 million probes (7 s).
        preparer = connection.dialect.identifier_preparer
        for table in tables:
            connection.execute(text(f"ANALYZE {preparer.format_table(table)}"))

    def fill_table(
        self, connection: Connection, table: Table, rows: Iterable[Sequence[object]]
    ) -> None:
        # COPY: one stream instead of a statement per row (executemany over psycopg took
        # ~30 µs a row, most of a digest plan's time at 10,000 due subscriptions).
        names = ", ".join(
            connection.dialect.identifier_preparer.quote(c.name) for c in table.columns
        )
        target = connection.dialect.identifier_preparer.format_table(table)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()

    def insert_rows(
        self, connection: Connection, table: Table, rows: Sequence[dict[str, Any]]
    ) -> None:
        # COPY, each value through its column type's bind processing (JSON, the UTC
        # datetimes): executemany's pipeline cost psycopg ~30 µs a row on the client, most
        # of what storing a first ingestion's briefs, goals and body links took.
        if not rows:
            return
        dialect = connection.dialect
        columns = [table.c[name] for name in rows[0]]
        processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
        target = dialect.identifier_preparer.format_table(table)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        [
                            row[column.name] if process is None else process(row[column.name])
                            for column, process in zip(columns, processors, strict=True)
                        ]
                    )
        finally:
            cursor.close()

    def insert_rows_ignoring_duplicates(
        self,
        connection: Connection,
        table: Table,
        rows: Sequence[dict[str, Any]],
        unique: Sequence[str],
    ) -> None:
        # COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING:
        # a pipelined INSERT per row cost client and server a third more (10,000 ledger rows).
        if not rows:
            return
        columns = [table.c[name] for name in rows[0]]
        staging = Table(
            f"staging_{table.name}",
            MetaData(),
            *(Column(column.name, column.type) for column in columns),
            prefixes=["TEMPORARY"],
        )
        staging.create(connection)  # dropped below; a failure rolls back its creation
        self.insert_rows(connection, staging, rows)
        connection.execute(
            self.insert_ignoring_duplicates(table, unique).from_select(
                [column.name for column in columns], select(*staging.c)
            )
        )
        staging.drop(connection)

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

    def lock_for_claim(self, statement: _Select) -> _Select:
        return statement.with_for_update(skip_locked=True)

    @contextmanager
    def leader_lock(self, engine: Engine, key: int) -> Iterator[bool]:
        with engine.connect() as connection:
            got = bool(
                connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            )
            try:
                yield got
            finally:
                if got:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()

    def stale_tables(self, connection: Connection, tables: Sequence[str]) -> list[str]:
        # A bulk load leaves the visibility map unset (no index-only scans) and the planner
        # with the statistics of an empty table until autovacuum gets round to it.
        rows = connection.execute(
            text(
                "SELECT relname, n_live_tup, n_ins_since_vacuum, n_mod_since_analyze, "
                "n_dead_tup FROM pg_stat_user_tables WHERE relname = ANY(:tables)"
            ),
            {"tables": list(tables)},
        )
        stale = []
        for name, live, inserted, modified, dead in rows:
            threshold = max(STALE_ROWS, STALE_FRACTION * (live or 0))
            if max(inserted or 0, modified or 0, dead or 0) > threshold:
                stale.append(str(name))
        return sorted(stale)

    def maintain(self, engine: Engine, tables: Sequence[str]) -> None:
        # VACUUM cannot run inside a transaction block.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in tables:
                connection.execute(text(f'VACUUM (ANALYZE) "{table}"'))


# A table is stale when more rows than this (and than this share of its rows) were written
# since it was last vacuumed or analysed.
STALE_ROWS = 1000
STALE_FRACTION = 0.2

BACKEND = PostgresBackend()
