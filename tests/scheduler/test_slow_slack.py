"""A slow and throttled Slack: posts that time out after Slack accepted them are never posted
twice (the channel's history decides, as after a crash), a long Retry-After on one channel
delays only that channel, and no tick sleeps on it. Real Slack client, local fake Slack."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from policybot.bot.posters import ChannelPacer, SlackPoster
from policybot.bot.services import Services
from policybot.bot.slack_client import POSTING_RETRY_HANDLERS, make_web_client
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler.ticker import Ticker
from tests.fakeslack import FakeSlack, Fault
from tests.scheduler.conftest import ingest, shown_briefs, slack_services, tracker_issue

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CHANNELS = [f"C{n:03d}" for n in range(6)]
THROTTLED = "C000"
# A timed-out post's answer comes this long after the client (timeout 1 s) gave up waiting:
# a wide margin, so a loaded machine cannot turn the timeout into a normal answer.
TIMED_OUT = 5.0


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(seed=11) as server:
        yield server


@pytest.fixture
def services(tmp_path: Path, fake: FakeSlack) -> Iterator[Services]:
    with slack_services(tmp_path, fake.url, START) as services:
        yield services


def slack_ticker(services: Services, timeout: int = 1) -> Ticker:
    client = make_web_client(
        services.settings,
        services.settings.bot_token,
        timeout=timeout,
        retry_handlers=POSTING_RETRY_HANDLERS,
    )
    poster = SlackPoster(lambda _team: client, pacer=ChannelPacer(sleep=lambda _s: None))
    return Ticker(services.sessions, poster, worker_id="slow", max_workers=len(CHANNELS))


def delivered(fake: FakeSlack, channel: str) -> Counter[str]:
    """How often each brief reached the channel, by the Show buttons of its posts."""
    refs: Counter[str] = Counter()
    for message in fake.posted_messages(channel):
        refs.update(shown_briefs(message))
    return refs


def run_waves(services: Services, fake: FakeSlack, waves: int) -> tuple[int, datetime]:
    """A brief every two minutes for `waves` rounds, ticking in between (simulated time),
    then ticks until everything is out. Returns the briefs expected per channel."""
    for channel in CHANNELS:
        with services.sessions() as session, session.begin():
            subscribe(
                Request(session, Context(now=START, team_id="T1", channel_id=channel), "instant", 1)
            )
    ticker = slack_ticker(services)
    now = START
    for wave in range(waves):
        ingest(services.sessions, tracker_issue(f"Slow Wave {wave}"), now + timedelta(seconds=5))
        ticker.tick(now + timedelta(minutes=1))
        now += timedelta(minutes=2)
    for _ in range(20):
        if all(len(delivered(fake, c)) == waves for c in CHANNELS):
            break
        now += timedelta(minutes=1)
        ticker.tick(now)
    return waves, now


def test_timeouts_after_acceptance_are_never_posted_twice(
    services: Services, fake: FakeSlack
) -> None:
    fake.fail_randomly(0.1, [Fault("timeout", delay=TIMED_OUT)])
    fake.fail_channel_next(
        THROTTLED, Fault("rate_limited", retry_after=45), Fault("rate_limited", retry_after=90)
    )
    waves, _ = run_waves(services, fake, 20)
    timeouts = [c for c in fake.calls_to("chat.postMessage") if c.fault == "timeout"]
    assert timeouts, "the fault injection did not trigger"
    # Every timed-out post had been accepted: the history lookup found it.
    assert fake.calls_to("conversations.history")
    for channel in CHANNELS:
        refs = delivered(fake, channel)
        assert len(refs) == waves, f"{channel} lost briefs: {sorted(refs)}"
        assert set(refs.values()) == {1}, f"duplicates in {channel}: {refs}"


def test_a_long_retry_after_delays_only_its_channel_and_no_tick_sleeps(
    services: Services, fake: FakeSlack
) -> None:
    for channel in CHANNELS:
        with services.sessions() as session, session.begin():
            subscribe(
                Request(session, Context(now=START, team_id="T1", channel_id=channel), "instant", 1)
            )
    fake.fail_channel_next(THROTTLED, Fault("rate_limited", retry_after=90))
    ingest(services.sessions, tracker_issue("Throttled Brief"), START + timedelta(seconds=5))
    ticker = slack_ticker(services)
    report = ticker.tick(START + timedelta(minutes=1))
    # Nothing waited out the 90 s inside the tick: the client did not retry the throttled
    # post (it would have slept on Retry-After first); the ledger holds its row instead.
    throttled = [c for c in fake.calls_to("chat.postMessage") if c.params["channel"] == THROTTLED]
    assert [c.status for c in throttled] == [429]
    assert report.retried == 1
    assert all(len(delivered(fake, c)) == 1 for c in CHANNELS if c != THROTTLED)
    assert not delivered(fake, THROTTLED)
    # Before Retry-After has passed (simulated time) the channel is not tried again...
    posts = len(fake.calls_to("chat.postMessage"))
    ticker.tick(START + timedelta(minutes=1, seconds=60))
    assert len(fake.calls_to("chat.postMessage")) == posts
    # ...and after it, the brief arrives once.
    ticker.tick(START + timedelta(minutes=2, seconds=31))
    assert delivered(fake, THROTTLED) == Counter({"b1": 1})


def test_stop_hands_untried_rows_back(services: Services, fake: FakeSlack) -> None:
    for channel in CHANNELS:
        with services.sessions() as session, session.begin():
            subscribe(
                Request(session, Context(now=START, team_id="T1", channel_id=channel), "instant", 1)
            )
    ingest(services.sessions, tracker_issue("Stopped Brief"), START + timedelta(seconds=5))
    ticker = slack_ticker(services)
    ticker.stop()
    report = ticker.tick(START + timedelta(minutes=1))
    assert report.sent == 0 and not fake.calls_to("chat.postMessage")
    fresh = slack_ticker(services)
    assert fresh.tick(START + timedelta(minutes=1)).sent == len(CHANNELS)


@pytest.mark.slow
def test_thousands_of_posts_through_timeouts_and_throttling(
    services: Services, fake: FakeSlack
) -> None:
    """The issue's soak: a few thousand posts (run with `-m slow`)."""
    fake.fail_randomly(0.1, [Fault("timeout", delay=TIMED_OUT)])
    fake.fail_channel_next(THROTTLED, *(Fault("rate_limited", retry_after=60) for _ in range(5)))
    waves, _ = run_waves(services, fake, 400)
    for channel in CHANNELS:
        refs = delivered(fake, channel)
        assert len(refs) == waves and set(refs.values()) == {1}, channel
