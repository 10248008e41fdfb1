"""Digest planning's set-wise writes: rows are written with a plain INSERT, and a row another
scheduler planned a moment earlier (one planning did not read) still wins by its key while
the rest are written once; many due subscriptions move to their own next slots through a
temporary table. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Delivery, DeliveryStatus, Subscription
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler.kinds import digest
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


def test_many_due_subscriptions_move_each_to_its_own_slot_through_the_slot_table(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `_UPDATE_CHUNK` due subscriptions, schedules move through a temporary table
    numbered by slot (lowered here so a few dozen take that path): each subscription gets
    its own schedule's next slot, and each is planned its matching brief once."""
    monkeypatch.setattr(digest, "_UPDATE_CHUNK", 10)
    ingest(factory, tracker_issue("Earlier Plan"), CREATED - timedelta(days=1))
    schedules = [
        # (schedule, weekday, at_minute, timezone, month_day) -> the next slot after NOW
        (("daily", None, 9 * 60, "UTC", None), datetime(2026, 12, 2, 9, 0, tzinfo=UTC)),
        (("daily", None, 9 * 60, "Europe/Berlin", None), datetime(2026, 12, 2, 8, 0, tzinfo=UTC)),
        (("weekly", 4, 9 * 60, "UTC", None), datetime(2026, 12, 4, 9, 0, tzinfo=UTC)),
        (("monthly", None, 9 * 60, "UTC", 15), datetime(2026, 12, 15, 9, 0, tzinfo=UTC)),
    ]
    rows = []
    for n in range(40):
        (kind, weekday, minute, zone, month_day), _ = schedules[n % len(schedules)]
        rows.append(
            {
                "team_id": "T1",
                "channel_id": f"C{n}",
                "created_by": "U1",
                "query_text": "storage",
                "schedule": kind,
                "weekday": weekday,
                "month_day": month_day,
                "at_minute": minute,
                "timezone": zone,
                "created_at": CREATED,
                "checked_until": CREATED,
                "next_due_at": NOW - timedelta(minutes=5),
            }
        )
    with factory() as session, session.begin():
        session.execute(insert(Subscription), rows)
    ingest(factory, tracker_issue("Storage Plan"), NOW - timedelta(minutes=10))
    with factory() as session, session.begin():
        planned = plan_digests(session, NOW)
    with factory() as session:
        moved = {
            channel: due
            for channel, due in session.execute(
                select(Subscription.channel_id, Subscription.next_due_at)
            )
        }
        checked = set(session.scalars(select(Subscription.checked_until)))
        keys = list(session.scalars(select(Delivery.dedupe_key)))
    assert planned == len(keys) == len(set(keys)) == 40
    assert moved == {f"C{n}": schedules[n % len(schedules)][1] for n in range(40)}
    assert checked == {NOW - timedelta(minutes=10)}  # the newest brief planning read
