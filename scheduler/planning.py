"""What every planner writes ledger rows with: the table, keys built by the database, and
the columns of a row planned now.

Planners that write many rows decide the small sets in Python and let the database write
the rows (temporary tables filled by `Backend.fill_table`, then one INSERT ... SELECT
through `insert_ignoring_duplicates`): scheduler/kinds/digest.py and alerts_interval.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, literal
from sqlalchemy import cast as cast_

from ..data.models import Delivery, UTCDateTime

# Ledger rows are written through the table, not the mapper: the ORM's bulk layer costs as
# much as the database for tens of thousands of plain rows.
DELIVERIES = cast(Table, Delivery.__table__)


def key_expression(prefix: str, *parts: ColumnElement[Any]) -> ColumnElement[str]:
    """A ledger dedupe key built by the database: `prefix:part:part...`, numbers as text
    (the same keys the Python planners write)."""
    key: ColumnElement[str] = literal(prefix)
    for part in parts:
        key = key + ":" + (part if isinstance(part.type, String) else cast_(part, String))
    return key


def new_row_columns(now: datetime) -> tuple[ColumnElement[Any], ...]:
    """created_at, next_attempt_at and attempts of a row planned `now`."""
    return (literal(now, UTCDateTime()), literal(now, UTCDateTime()), literal(0))
