"""Rule runs under faults, counted from the fake Slack's messages: a scheduler process killed
(SIGKILL) at each named point with runs in its claim, a goal removed between the run's items
being fixed and the post, posts timing out after Slack accepted them, a 429 storm, and two
schedulers racing without the leader lock. Every (channel, goal) alert reaches its channel
exactly once, and a run posts the items fixed before its first post.

The runs are written as planning writes them (tests/scheduler/runs.py); half the channels
also have a rule made an hour before the alert time, whose first plan writes per-alert rows
on the same goals, posted in the same slot: one alert per goal."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.bot.services import Services
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.models import AlertItem, Brief, Delivery, DeliveryStatus, ReminderRule
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.scheduler import ledger
from policybot.scheduler.messages import AlertBatch
from policybot.scheduler.ticker import Ticker
from tests.fakeslack import FakeSlack, Fault
from tests.scheduler.conftest import RecordingPoster, ingest, slack_services, tracker_issue
from tests.scheduler.runs import forget_brief, plan_runs
from tests.scheduler.test_crash import KILLED, posts, run_child
from tests.scheduler.test_slow_slack import TIMED_OUT, slack_ticker

T0 = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
FIRE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # the 30-day lead of 2027-03-31
CHANNELS = [f"C{n:02d}" for n in range(12)]
TITLES = [f"Fault Plan {n}" for n in range(5)]
REMOVED = TITLES[-1]


def set_up(factory: sessionmaker[Session]) -> None:
    """A rule per channel made at T0 and planned once (nothing due), five goals due
    2027-03-31, each rule's run over its 30-day lead, and in every other channel a second
    rule made an hour before that lead (first plan: per-alert rows)."""
    for channel in CHANNELS:
        with factory() as session, session.begin():
            remind(Request(session, _ctx(T0, channel), "leads 30 tz UTC", 1))
    raw = tracker_issue(*TITLES, published=date(2026, 12, 1)).replace(
        b"By 2028,", b"By March 2027,"
    )
    ingest(factory, raw, T0 + timedelta(hours=1))
    Ticker(factory, RecordingPoster(), worker_id="first-plan", max_workers=1).tick(
        T0 + timedelta(hours=2)
    )
    with factory() as session:
        rules = list(session.scalars(select(ReminderRule.id).order_by(ReminderRule.id)))
    for rule in rules:
        plan_runs(factory, rule, FIRE)
    for channel in CHANNELS[::2]:
        with factory() as session, session.begin():
            remind(
                Request(session, _ctx(FIRE - timedelta(hours=1), channel), "storage leads 30", 1)
            )


def _ctx(now: datetime, channel: str) -> Context:
    return Context(now=now, team_id="T1", channel_id=channel, user_id="U1")


def goal_refs(message: dict[str, Any]) -> list[str]:
    """The goals a posted alert message shows (each alert's section names its goal once)."""
    blocks = message.get("blocks") or []
    found = []
    for block in blocks:
        text = (block.get("text") or {}).get("text", "") if block.get("type") == "section" else ""
        found += re.findall(r"`(g\d+)`\n", text)
    return found


def alerts_posted(fake: FakeSlack) -> Counter[tuple[str, str]]:
    counted: Counter[tuple[str, str]] = Counter()
    for message in fake.posted_messages():
        counted.update((message["channel"], ref) for ref in goal_refs(message))
    return counted


def goal_refs_of(factory: sessionmaker[Session], titles: list[str]) -> set[str]:
    with factory() as session:
        return {
            f"g{goal.id}"
            for brief in session.scalars(select(Brief).where(Brief.title.in_(titles)))
            for goal in brief.goals
        }


def count(factory: sessionmaker[Session], model: Any, **where: object) -> int:
    with factory() as session:
        statement = select(func.count()).select_from(model).filter_by(**where)
        return int(session.scalar(statement) or 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    else:
        url = str(request.getfixturevalue("fresh_postgres_url"))
    engine = make_engine(url)
    upgrade(engine)
    set_up(session_factory(engine))
    engine.dispose()
    yield url


def run_at(run: int) -> datetime:
    """Each run starts a lease after the last, so it takes over what a killed run held."""
    return FIRE + run * (ledger.CLAIM_LEASE + timedelta(seconds=1))


def test_kills_with_runs_in_the_claim_post_each_alert_once(database: str) -> None:
    engine = make_engine(database)
    factory = session_factory(engine)
    everything = goal_refs_of(factory, TITLES)
    removed = goal_refs_of(factory, [REMOVED])
    with FakeSlack() as fake:
        # Killed right after its claim (runs and per-alert rows) committed: nothing posted,
        # no run prepared.
        assert run_child(database, fake, run_at(0), "after_claim") == KILLED
        assert posts(fake) == [] and count(factory, AlertItem) == 0
        runs, rows = len(CHANNELS), len(CHANNELS[::2]) * len(TITLES)
        assert count(factory, Delivery, status=DeliveryStatus.CLAIMED) == runs + rows
        # Killed after Slack accepted the first message: the runs' items were fixed first.
        assert run_child(database, fake, run_at(1), "after_post") == KILLED
        (first,) = posts(fake)
        assert count(factory, AlertItem) == len(CHANNELS) * len(TITLES)
        # A goal removed now, after the items were fixed: gone from every post to come.
        forget_brief(factory, _brief_id(factory, REMOVED))
        # The first message is found in the history (its ids include the run's), the next
        # one posted, and the process dies after recording it.
        assert run_child(database, fake, run_at(2), "after_mark:2") == KILLED
        assert posts(fake)[0] == first and len(posts(fake)) == 2
        assert count(factory, Delivery, message_ts="recovered") >= 1
        assert run_child(database, fake, run_at(3), "before_post:3") == KILLED
        assert len(posts(fake)) == 4
        assert run_child(database, fake, run_at(4), None) == 0
        assert run_child(database, fake, run_at(5), None) == 0  # nothing left
        counted = alerts_posted(fake)
        channels = posts(fake)
    expected = {(c, ref) for c in CHANNELS for ref in everything - removed}
    expected |= {(first, ref) for ref in removed}  # posted before it was removed
    assert set(counted) == expected
    assert max(counted.values()) == 1, "an alert was posted twice"
    assert sorted(channels) == sorted(CHANNELS)  # one message per channel
    with factory() as session:
        statuses = Counter(session.scalars(select(Delivery.status)))
    assert set(statuses) == {DeliveryStatus.SENT}
    engine.dispose()


def _brief_id(factory: sessionmaker[Session], title: str) -> int:
    with factory() as session:
        found = session.scalar(select(Brief.id).where(Brief.title == title))
    assert found is not None
    return found


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(seed=7) as server:
        yield server


@pytest.fixture
def services(tmp_path: Path, fake: FakeSlack) -> Iterator[Services]:
    with slack_services(tmp_path, fake.url, T0) as services:
        yield services


def test_timeouts_after_acceptance_and_a_429_storm_post_each_alert_once(
    services: Services, fake: FakeSlack
) -> None:
    set_up(services.sessions)
    fake.fail_randomly(
        0.4,
        [Fault("timeout", delay=TIMED_OUT), Fault("rate_limited", retry_after=20)],
    )
    ticker = slack_ticker(services)
    expected = {(c, ref) for c in CHANNELS for ref in goal_refs_of(services.sessions, TITLES)}
    now = FIRE
    for _ in range(40):
        ticker.tick(now)
        if set(alerts_posted(fake)) == expected and not _open(services.sessions):
            break
        now += timedelta(minutes=1)
    faults = Counter(c.fault for c in fake.calls_to("chat.postMessage") if c.fault)
    assert faults["timeout"] and faults["rate_limited"], faults
    assert fake.calls_to("conversations.history")  # timed-out posts were looked up
    counted = alerts_posted(fake)
    assert set(counted) == expected
    assert max(counted.values()) == 1, "an alert was posted twice"
    assert not _open(services.sessions)


def _open(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)))
            )
            or 0
        )


@pytest.mark.postgres
def test_two_schedulers_without_the_leader_lock_post_each_alert_once(
    fresh_postgres_url: str,
) -> None:
    engines = [make_engine(fresh_postgres_url) for _ in range(2)]
    factories = [session_factory(e) for e in engines]
    set_up(factories[0])
    poster = RecordingPoster()
    tickers = [
        Ticker(f, poster, worker_id=f"replica-{i}", max_workers=4, leader_lock=False)
        for i, f in enumerate(factories)
    ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(ticker: Ticker) -> None:
        try:
            for tick in range(12):
                barrier.wait()
                # A lease apart now and then, so expired claims are taken over too.
                ticker.tick(FIRE + tick * (ledger.CLAIM_LEASE / 2))
        except BaseException as error:  # surfaced below
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(t,)) for t in tickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    posted: Counter[tuple[str, int]] = Counter()
    delivered: Counter[int] = Counter()
    for _, channel, message in poster.posts:
        assert isinstance(message, AlertBatch)
        posted.update((channel, alert.goal.id) for alert in message.alerts)
        delivered.update(message.delivery_ids)
    goals = {int(ref[1:]) for ref in goal_refs_of(factories[0], TITLES)}
    assert set(posted) == {(c, g) for c in CHANNELS for g in goals}
    # No ledger row (a run, a per-alert row) went out in two messages.
    assert max(delivered.values()) == 1, "a ledger row was posted twice"
    # A channel with one rule reads each goal once. Where two rules of a channel alert one
    # goal, two schedulers without the leader lock may split the channel's rows between
    # their claims (SKIP LOCKED) and each post its rule's alert: at most once per rule, as
    # with per-alert rows (one slot makes them one alert only when one worker holds both).
    single = {(c, g) for c in CHANNELS[1::2] for g in goals}
    assert {key: n for key, n in posted.items() if key in single and n != 1} == {}
    assert max(posted.values()) <= 2
    assert count(factories[0], AlertItem) == len(CHANNELS) * len(TITLES)
    assert not _open(factories[0])
    for engine in engines:
        engine.dispose()
