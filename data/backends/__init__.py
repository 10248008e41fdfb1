"""What SQLite and PostgreSQL do differently, behind one small interface.

Everything above this package asks `backend_for(session)` instead of testing the dialect's
name: one module per engine says how it inserts-or-ignores, locks rows for a claim, and
elects a leader. (Migrations keep their own dialect tests: they describe the schema of one
engine at one point in history.)
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from . import postgresql, sqlite
from .base import Backend

Bind = Session | Connection | Engine
BACKENDS: tuple[Backend, ...] = (sqlite.BACKEND, postgresql.BACKEND)


def dialect_name(bind: Bind) -> str:
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def backend_for(bind: Bind) -> Backend:
    name = dialect_name(bind)
    for backend in BACKENDS:
        if backend.name == name:
            return backend
    raise RuntimeError(f"policybot does not support the {name} database")


__all__ = ["BACKENDS", "Backend", "Bind", "backend_for", "dialect_name"]
