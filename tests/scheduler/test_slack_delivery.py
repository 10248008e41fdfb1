"""Digests through the real Slack client against the fake Slack Web API, with injected faults."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from policybot.bot.posters import ChannelPacer, SlackPoster
from policybot.bot.services import Services
from policybot.bot.slack_client import make_web_client
from policybot.data.models import Subscription
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe, subscriptions
from policybot.scheduler.ticker import Ticker
from tests.fakeslack import FakeSlack, Fault
from tests.scheduler.conftest import ingest, shown_briefs, slack_services, tracker_issue

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CHANNELS = [f"C{n:03d}" for n in range(8)]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(seed=7) as server:
        yield server


@pytest.fixture
def services(tmp_path: Path, fake: FakeSlack) -> Iterator[Services]:
    with slack_services(tmp_path, fake.url, START) as services:
        yield services


def slack_ticker(services: Services, worker: str = "w1") -> Ticker:
    client = make_web_client(services.settings, services.settings.bot_token)
    poster = SlackPoster(lambda _team: client, pacer=ChannelPacer(sleep=lambda _s: None))
    return Ticker(services.sessions, poster, worker_id=worker, max_workers=8)


def subscribe_all(services: Services, text: str = "instant") -> None:
    for channel in CHANNELS:
        with services.sessions() as session, session.begin():
            subscribe(
                Request(
                    session,
                    Context(now=START, team_id="T1", channel_id=channel, user_id="U1"),
                    text,
                    1,
                )
            )


def delivered_refs(fake: FakeSlack, channel: str) -> Counter[str]:
    refs: Counter[str] = Counter()
    for message in fake.posted_messages(channel):
        refs.update(shown_briefs(message))
    return refs


def test_faults_still_deliver_every_brief_exactly_once(services: Services, fake: FakeSlack) -> None:
    subscribe_all(services)
    titles = [f"Fault Brief {n}" for n in range(25)]
    ingest(services.sessions, tracker_issue(*titles), START + timedelta(seconds=5))
    fake.fail_randomly(
        0.3,
        [
            Fault("rate_limited", retry_after=0),
            Fault("server_error", status=503),
            Fault("server_error", status=500),
        ],
    )
    ticker = slack_ticker(services)
    now = START + timedelta(minutes=1)
    for _ in range(40):  # retries back off; keep ticking until everything is out
        ticker.tick(now)
        if all(sum(delivered_refs(fake, c).values()) == 25 for c in CHANNELS):
            break
        now += timedelta(minutes=30)
    faulted = [c for c in fake.calls_to("chat.postMessage") if c.status != 200]
    assert faulted, "the fault injection did not trigger"
    for channel in CHANNELS:
        refs = delivered_refs(fake, channel)
        assert len(refs) == 25, channel
        assert set(refs.values()) == {1}, f"duplicates in {channel}: {refs}"


def test_channel_not_found_pauses_the_subscription(services: Services, fake: FakeSlack) -> None:
    subscribe_all(services)
    fake.set_user("U1", tz="Europe/Berlin")
    fake.fail_channel("C003", "channel_not_found")
    ingest(services.sessions, tracker_issue("Lost Channel Brief"), START + timedelta(seconds=5))
    report = slack_ticker(services).tick(START + timedelta(minutes=1))
    assert report.paused == ["s4"]
    assert delivered_refs(fake, "C003") == Counter()
    assert all(len(delivered_refs(fake, c)) == 1 for c in CHANNELS if c != "C003")
    with services.sessions() as session:
        paused = session.scalar(select(Subscription).where(Subscription.channel_id == "C003"))
        assert paused is not None and "channel_not_found" in (paused.paused_reason or "")
        listing = subscriptions(
            Request(session, Context(now=START, team_id="T1", channel_id="C003"), "", 1)
        )
    assert "paused" in listing.text
    # The subscriber hears about it by direct message.
    dms = fake.posted_messages("U1")
    assert dms and "channel_not_found" in dms[0]["text"]
    # Inviting the bot back and subscribing again delivers what was held.
    fake.heal_channel("C003")
    with services.sessions() as session, session.begin():
        subscribe(
            Request(
                session,
                Context(now=START, team_id="T1", channel_id="C003", user_id="U1"),
                "instant",
                1,
            )
        )
    slack_ticker(services).tick(START + timedelta(minutes=2))
    assert len(delivered_refs(fake, "C003")) == 1


def test_pacer_spaces_posts_per_channel() -> None:
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    pacer = ChannelPacer(1.0, sleep=sleep, monotonic=lambda: clock[0])
    pacer.wait("C1")
    pacer.wait("C2")
    pacer.wait("C1")
    clock[0] += 0.25
    pacer.wait("C1")
    assert slept == [1.0, 0.75]
