"""The delivery-kind registry: every row a planner writes has a registered kind that claims
and delivers it. A new kind whose rows nobody claims fails here instead of staying silent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Delivery, DeliveryStatus
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler import ledger
from policybot.scheduler.delivery import DeliveryKind, Owner
from policybot.scheduler.registry import BY_NAME, KINDS, OWNERS, PLANNERS
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue
from tests.scheduler.test_finalised import draft_and_final

START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def _context(now: datetime) -> Context:
    return Context(now=now, team_id="T1", channel_id="C1", user_id="U1")


def _every_kind_planned(factory: sessionmaker[Session]) -> list[Delivery]:
    """A channel with a subscription and a reminder rule, a brief whose deadline is near
    (newly tracked, then a lead) and later passed (a follow-up): rows of every kind."""
    with factory() as session, session.begin():
        subscribe(Request(session, _context(START), "instant", 1))
        remind(Request(session, _context(START), "tz UTC", 1))
    raw = tracker_issue("Registry Plan", published=date(2027, 3, 1))
    ingest(factory, raw.replace(b"By 2028,", b"By March 2027,"), START + timedelta(hours=1))
    for now in (
        START + timedelta(hours=2),
        datetime(2027, 3, 24, 9, 0, tzinfo=UTC),  # the 7-day lead
        datetime(2027, 4, 8, 9, 0, tzinfo=UTC),  # a week after the deadline: follow-up
    ):
        for plan in PLANNERS:
            with factory() as session, session.begin():
                plan(session, now)
    # A draft for comments told to C1 (a digest) and to C2 (a reminder rule's alert), then
    # its final version: a "finalised" row of each owner.
    with factory() as session, session.begin():
        remind(
            Request(session, Context(now=START, team_id="T1", channel_id="C2", user_id="U1"), "", 1)
        )
    draft, final = draft_and_final(
        "登记方案", 9, date(2027, 4, 8), date(2027, 4, 8), ("May 2027", "June 2027")
    )
    for raw, hour in ((draft, 10), (final, 12)):
        ingest(factory, raw, datetime(2027, 4, 8, hour, 0, tzinfo=UTC))
        for plan in PLANNERS:
            with factory() as session, session.begin():
                plan(session, datetime(2027, 4, 8, hour, 30, tzinfo=UTC))
    with factory() as session:
        return list(session.scalars(select(Delivery)))


def test_every_planned_row_has_a_registered_kind(factory: sessionmaker[Session]) -> None:
    planned = {row.kind for row in _every_kind_planned(factory)}
    assert planned <= set(BY_NAME), f"rows nobody claims: {planned - set(BY_NAME)}"
    # The scenario exercises every kind, so a kind that planners stopped writing shows too.
    assert planned == set(BY_NAME)


def test_every_kind_is_claimed_and_delivered(factory: sessionmaker[Session]) -> None:
    rows = _every_kind_planned(factory)
    pending = {row.id: row.kind for row in rows if row.status == DeliveryStatus.PENDING}
    assert set(pending.values()) == set(BY_NAME)
    poster = RecordingPoster()
    Ticker(factory, poster, worker_id="registry", max_workers=1).tick(
        datetime(2027, 4, 8, 13, 0, tzinfo=UTC)
    )
    with factory() as session:
        found = session.execute(
            select(Delivery.id, Delivery.status).where(Delivery.id.in_(list(pending)))
        )
        statuses = {row_id: status for row_id, status in found}
    assert {statuses[i] for i in pending} == {DeliveryStatus.SENT}
    assert poster.posts


def test_a_kind_nobody_registered_is_never_claimed(factory: sessionmaker[Session]) -> None:
    rows = _every_kind_planned(factory)
    owners_without_followup = {k: o for k, o in OWNERS.items() if k != "followup"}
    with factory() as session, session.begin():
        claimed = ledger.claim_due(
            session, datetime(2027, 4, 8, 9, 0, tzinfo=UTC), "w", owners_without_followup
        )
    assert "followup" in {row.kind for row in rows}
    assert "followup" not in {claim.kind for claim in claimed}


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_each_kind_names_an_owner_column_of_the_ledger(kind: DeliveryKind) -> None:
    columns = {column.key for column in inspect(Delivery).columns}
    assert kind.owner in set(Owner)
    assert str(kind.owner) in columns
