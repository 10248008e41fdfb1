"""PostgreSQL, the production engine: several replicas share one database, so claims lock
rows (`FOR UPDATE SKIP LOCKED`) and a session-level advisory lock elects one leader."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, Table, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import Insert

from policybot.data.backends.base import Backend

_Select = TypeVar("_Select", bound=Select[Any])


class PostgresBackend(Backend):
    name = "postgresql"

    def insert_ignoring_duplicates(
        self, target: type[DeclarativeBase] | Table, unique: Sequence[str]
    ) -> Insert:
        return insert(target).on_conflict_do_nothing(index_elements=list(unique))

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


BACKEND = PostgresBackend()
