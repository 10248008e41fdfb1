"""The interface every database backend implements, and the choice of one for a bind."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select, Table
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.dml import Insert

Bind = Session | Connection | Engine
_Select = TypeVar("_Select", bound=Select[Any])


class Backend(ABC):
    name: str

    @abstractmethod
    def insert_ignoring_duplicates(
        self, target: type[DeclarativeBase] | Table, unique: Sequence[str]
    ) -> Insert:
        """INSERT that skips rows whose `unique` columns already exist (no error)."""

    @abstractmethod
    def lock_for_claim(self, statement: _Select) -> _Select:
        """The statement locking the rows it reads against other claimers, skipping rows
        another transaction holds (a no-op where one process writes at a time)."""

    @abstractmethod
    def leader_lock(self, engine: Engine, key: int) -> AbstractContextManager[bool]:
        """Try to become the one process acting for `key`; yields whether this one is."""


def _dialect_name(bind: Bind) -> str:
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def backend_for(bind: Bind) -> Backend:
    from policybot.data.backends import postgresql, sqlite

    name = _dialect_name(bind)
    for backend in (sqlite.BACKEND, postgresql.BACKEND):
        if backend.name == name:
            return backend
    raise RuntimeError(f"policybot does not support the {name} database")
