"""Keeping the search table and the delivery ledger healthy after bulk writes.

A bulk ingest into PostgreSQL leaves `search_documents` unvacuumed (no visibility map, so no
index-only scans) and with the planner statistics of a much smaller table until autovacuum
reaches it: searches are an order of magnitude slower meanwhile. `policybot db maintain`
runs VACUUM ANALYZE on the tables that matter (and the alert items rule runs carry); `needs_maintenance` says when it is due, so
the ingest summary can recommend it.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from .backends import backend_for
from .models import AlertItem, Delivery, SearchDocument

# alert_items takes a rule run's items each morning (hundreds of thousands on a busy one).
MAINTAINED_TABLES: tuple[str, ...] = (
    SearchDocument.__tablename__,
    Delivery.__tablename__,
    AlertItem.__tablename__,
)


def stale_tables(session: Session) -> list[str]:
    """The maintained tables whose statistics lag behind what was written to them."""
    return backend_for(session).stale_tables(session.connection(), MAINTAINED_TABLES)


def needs_maintenance(session: Session) -> bool:
    return bool(stale_tables(session))


def maintain(engine: Engine) -> tuple[str, ...]:
    """VACUUM ANALYZE (ANALYZE on SQLite) the maintained tables; returns their names."""
    backend_for(engine).maintain(engine, MAINTAINED_TABLES)
    return MAINTAINED_TABLES
