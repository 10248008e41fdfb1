"""A slot's digest as a reply: its Unsubscribe buttons name the subscriptions it carries, by
the ids the digest holds, and pressing one removes that subscription and no other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Subscription
from policybot.handlers.context import Context
from policybot.handlers.digests import reply_for
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe, unsubscribe
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue

START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def _context() -> Context:
    return Context(now=START, team_id="T1", channel_id="C1", user_id="U1")


def _subscribe(factory: sessionmaker[Session], *queries: str) -> list[int]:
    with factory() as session, session.begin():
        for query in queries:
            subscribe(Request(session, _context(), f"{query} daily at 09:00 tz UTC"))
    with factory() as session:
        return list(session.scalars(select(Subscription.id).order_by(Subscription.id)))


def test_unsubscribe_buttons_name_the_digests_subscriptions(
    factory: sessionmaker[Session],
) -> None:
    ids = _subscribe(factory, "storage", "battery")
    ingest(
        factory, tracker_issue("Grid Rules", words="storage battery"), START + timedelta(minutes=30)
    )
    poster = RecordingPoster()
    Ticker(factory, poster, worker_id="replies", max_workers=1).tick(START + timedelta(hours=1))
    (digest,) = poster.digests()
    assert [line.id for line in digest.subscriptions] == ids
    reply = reply_for(digest)
    commands = [button.command for button in reply.buttons]
    assert commands == [f"unsubscribe s{i}" for i in ids] + ["subscriptions"]
    # Pressing the second one removes that subscription only.
    label = commands[1].removeprefix("unsubscribe ")
    with factory() as session, session.begin():
        unsubscribe(Request(session, _context(), label))
    with factory() as session:
        assert list(session.scalars(select(Subscription.id))) == ids[:1]
