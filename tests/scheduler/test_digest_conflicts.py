"""Digest rows are written with a plain INSERT; a row another scheduler planned a moment
earlier (one planning did not read) still wins by its key, and the rest are written once.
Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, event, select, update
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Delivery, DeliveryStatus, Subscription
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler.kinds.digest import plan_digests
from tests.scheduler.conftest import ingest, tracker_issue

CREATED = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

# What another scheduler wrote between this planning's read of the ledger and its write:
# the first of the pairs about to be written, already sent.
_THEIRS = (
    "INSERT INTO deliveries (dedupe_key, kind, team_id, channel_id, subscription_id, "
    "brief_id, status, created_at, next_attempt_at, attempts) "
    "SELECT 'digest:' || CAST(p.subscription_id AS VARCHAR) || ':' || "
    "CAST(p.brief_id AS VARCHAR), 'digest', s.team_id, s.channel_id, p.subscription_id, "
    "p.brief_id, 'sent', s.created_at, s.created_at, 1 "
    "FROM plan_digest_pairs p JOIN subscriptions s ON s.id = p.subscription_id "
    "ORDER BY p.subscription_id, p.brief_id LIMIT 1"
)


@contextmanager
def planned_elsewhere_first(connection: Connection) -> Iterator[list[str]]:
    """Writes `_THEIRS` just before the savepoint the digest rows are written under (so
    rolling it back keeps their row), once the pairs are known; yields the statements."""
    seen: list[str] = []
    state = {"pairs": False, "done": False}

    def before(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)
        if "CREATE TEMPORARY TABLE plan_digest_pairs" in statement:
            state["pairs"] = True
        elif state["pairs"] and not state["done"] and statement.startswith("SAVEPOINT"):
            state["done"] = True
            cursor.execute(_THEIRS)

    event.listen(connection, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", before)


def test_a_row_planned_elsewhere_meanwhile_keeps_its_key_and_the_rest_are_written(
    factory: sessionmaker[Session], connection: Connection
) -> None:
    ingest(factory, tracker_issue("Earlier Plan"), CREATED - timedelta(days=1))
    for n in range(3):
        context = Context(now=CREATED, team_id="T1", channel_id=f"C{n}", user_id="U1")
        with factory() as session, session.begin():
            subscribe(Request(session, context, "storage daily at 09:00 tz UTC", 1))
    ingest(factory, tracker_issue("First Storage Plan", "Second Storage Plan"), NOW)
    with factory() as session, session.begin():
        session.execute(update(Subscription).values(next_due_at=NOW - timedelta(minutes=5)))
    with planned_elsewhere_first(connection) as statements, factory() as session, session.begin():
        planned = plan_digests(session, NOW)
    with factory() as session:
        rows = session.execute(
            select(Delivery.subscription_id, Delivery.brief_id, Delivery.status)
        ).all()
    pairs = [(subscription, brief) for subscription, brief, _ in rows]
    assert planned == len(rows) == len(set(pairs)) == 3 * 2  # each pair once
    theirs = min(pairs)
    status = {(subscription, brief): status for subscription, brief, status in rows}
    assert status.pop(theirs) == DeliveryStatus.SENT
    assert set(status.values()) == {DeliveryStatus.PENDING}
    # The plain INSERT met their row and the rows were written again, skipping it.
    inserts = [s for s in statements if s.lstrip().startswith("INSERT INTO deliveries")]
    assert len(inserts) == 2 and "ON CONFLICT" in inserts[1] and "ON CONFLICT" not in inserts[0]


def test_planning_twice_adds_nothing(factory: sessionmaker[Session]) -> None:
    """Planning reads what it planned before: a second plan of the same due subscriptions
    (their schedules moved back) writes no row twice and raises nothing."""
    ingest(factory, tracker_issue("Earlier Plan"), CREATED - timedelta(days=1))
    context = Context(now=CREATED, team_id="T1", channel_id="C1", user_id="U1")
    with factory() as session, session.begin():
        subscribe(Request(session, context, "storage daily at 09:00 tz UTC", 1))
    ingest(factory, tracker_issue("Storage Plan"), NOW)
    for _ in range(2):
        with factory() as session, session.begin():
            session.execute(
                update(Subscription).values(
                    next_due_at=NOW - timedelta(minutes=5), checked_until=CREATED
                )
            )
        with factory() as session, session.begin():
            plan_digests(session, NOW)
    with factory() as session:
        keys = list(session.scalars(select(Delivery.dedupe_key)))
    assert len(keys) == len(set(keys)) == 1
