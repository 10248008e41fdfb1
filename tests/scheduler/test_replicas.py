"""Two schedulers ticking against one PostgreSQL database: no duplicate posts."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from policybot.data.db import make_engine, session_factory
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler.messages import Digest
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue

pytestmark = pytest.mark.postgres
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CHANNELS = [f"C{n}" for n in range(12)]


@pytest.mark.parametrize("leader_lock", [True, False], ids=["advisory-lock", "row-claims-only"])
def test_two_schedulers_hundred_ticks_no_duplicates(
    fresh_postgres_url: str, leader_lock: bool
) -> None:
    engines = [make_engine(fresh_postgres_url) for _ in range(2)]
    factories = [session_factory(e) for e in engines]
    poster = RecordingPoster()
    tickers = [
        Ticker(f, poster, worker_id=f"replica-{i}", max_workers=4, leader_lock=leader_lock)
        for i, f in enumerate(factories)
    ]
    for channel in CHANNELS:
        with factories[0]() as session, session.begin():
            subscribe(
                Request(session, Context(now=START, team_id="T1", channel_id=channel), "instant", 1)
            )
    expected: list[str] = []
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(ticker: Ticker) -> None:
        try:
            for tick in range(100):
                barrier.wait()
                ticker.tick(START + timedelta(minutes=tick + 1))
        except BaseException as error:  # surfaced below
            errors.append(error)
            barrier.abort()

    # Briefs arrive over the simulated hours: each batch is ingested with a time that falls
    # between ticks, so every tick finds some new work for both replicas to race for.
    def feed() -> None:
        for batch in range(10):
            titles = [f"Replica Brief {batch}-{n}" for n in range(3)]
            expected.extend(titles)
            ingest(
                factories[0],
                tracker_issue(*titles),
                START + timedelta(minutes=batch * 9, seconds=30),
            )

    feed()
    threads = [threading.Thread(target=run, args=(t,)) for t in tickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for engine in engines:
        engine.dispose()
    assert not errors, errors
    posted: Counter[tuple[str, str]] = Counter()
    for _, channel, message in poster.posts:
        assert isinstance(message, Digest)
        for brief in message.briefs:
            posted[(channel, brief.title)] += 1
    duplicates = {key: n for key, n in posted.items() if n > 1}
    assert duplicates == {}
    assert len(posted) == len(CHANNELS) * len(expected)
