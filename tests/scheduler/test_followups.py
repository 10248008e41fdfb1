"""Follow-ups ("Was this target met?") are one message per channel per slot, each goal with
its buttons, capped with the rest named; exactly once through a crash after the post, a
timeout after Slack accepted, and a 429 Retry-After. Both engines for the ledger; the Slack
ones through the real client and the fake Slack Web API."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.bot.posters import ChannelPacer, SlackPoster, follow_up_payload
from policybot.bot.services import Services
from policybot.bot.slack_client import POSTING_RETRY_HANDLERS, make_web_client
from policybot.data.models import AlertItem, Delivery, DeliveryStatus
from policybot.data.views import BriefView, DeadlineView, GoalView
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.scheduler import ledger
from policybot.scheduler.kinds.followup import FOLLOWUP, MAX_FOLLOW_UPS
from policybot.scheduler.messages import FollowUp, Outgoing
from policybot.scheduler.ticker import Ticker
from tests.bot.test_blocks import assert_valid_message
from tests.conftest import NOW
from tests.fakeslack import FakeSlack, Fault
from tests.scheduler.conftest import RecordingPoster, ingest, slack_services, tracker_issue

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
# The tracker issues' goals are "By 2028": followed up a week after the end of 2028.
FOLLOW_UP_MORNING = datetime(2029, 1, 7, 9, 1, tzinfo=UTC)


def _remind(factory: sessionmaker[Session], channel: str, text: str, now: datetime) -> None:
    with factory() as session, session.begin():
        remind(
            Request(
                session, Context(now=now, team_id="T1", channel_id=channel, user_id="U1"), text, 1
            )
        )


def _follow_ups(poster: RecordingPoster, channel: str) -> list[FollowUp]:
    return [m for _, c, m in poster.posts if c == channel and isinstance(m, FollowUp)]


def _goal_refs(message: FollowUp) -> list[str]:
    return [item.goal.ref for item in message.goals] + list(message.more)


@pytest.mark.usefixtures("corpus")
def test_the_demos_follow_ups_of_one_morning_are_one_message(
    factory: sessionmaker[Session],
) -> None:
    """The demo's targets "by 2027" are followed up on 7 January 2028: one message with each
    of them (one message per goal before)."""
    _remind(factory, "C1", "tz UTC", NOW)
    _remind(factory, "C1", "kind:company tz UTC", NOW)
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="w", max_workers=1)
    morning = datetime(2028, 1, 7, 9, 1, tzinfo=UTC)
    for day in (datetime(2027, 1, 7, 9, 1, tzinfo=UTC), morning):
        ticker.tick(day)
    with factory() as session:
        rows = list(
            session.execute(
                # A follow-up row names its goal; a rule run's follow-ups are its items.
                select(
                    func.coalesce(AlertItem.goal_id, Delivery.goal_id),
                    Delivery.status,
                    Delivery.sent_at,
                )
                .outerjoin(AlertItem, AlertItem.delivery_id == Delivery.id)
                .where(Delivery.kind == FOLLOWUP)
            )
        )
    that_morning = {goal for goal, _, sent in rows if sent == morning}
    assert len(that_morning) >= 3  # the demo has several targets for 2027
    assert {status for _, status, _ in rows} == {DeliveryStatus.SENT}
    (message,) = [m for m in _follow_ups(poster, "C1") if m.count > 1]
    assert sorted(_goal_refs(message)) == sorted(f"g{g}" for g in that_morning)
    assert message.headline == f"{len(that_morning)} deadlines have passed. Was each target met?"


def test_a_backlog_is_capped_and_names_the_rest(factory: sessionmaker[Session]) -> None:
    _remind(factory, "C1", "tz UTC", START)
    _remind(factory, "C1", "storage tz UTC", START)  # a second rule on the same goals
    count = 3 * MAX_FOLLOW_UPS + 4
    ingest(factory, tracker_issue(*(f"Backlog {n}" for n in range(count))), START)
    poster = RecordingPoster()
    report = Ticker(factory, poster, worker_id="w", max_workers=1).tick(FOLLOW_UP_MORNING)
    (message,) = _follow_ups(poster, "C1")
    assert len(message.goals) == MAX_FOLLOW_UPS and len(message.more) == count - MAX_FOLLOW_UPS
    assert len(set(_goal_refs(message))) == count  # each goal once, though two rules follow it
    assert report.messages == 1 and report.sent == len(message.delivery_ids)
    payload = {**follow_up_payload(message), "response_type": "in_channel"}
    assert_valid_message(payload)
    answers = _answer_values(payload)
    assert {ref for ref, _ in answers} == {item.goal.ref for item in message.goals}
    assert Counter(word for _, word in answers) == Counter(
        {"met": MAX_FOLLOW_UPS, "missed": MAX_FOLLOW_UPS, "unclear": MAX_FOLLOW_UPS}
    )
    listed = [v for v in _values(payload) if v.startswith("list ")]
    assert listed == ["list " + " ".join(message.more)]
    assert f"\u2026and {len(message.more)} more targets." in str(payload["blocks"])


def _values(payload: dict[str, Any]) -> list[str]:
    return [
        element["value"]
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if "value" in element
    ]


def _answer_values(payload: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for value in _values(payload):
        if match := re.fullmatch(r"status (g\d+) (met|missed|unclear)", value):
            found.append((match.group(1), match.group(2)))
    return found


# -- through Slack ---------------------------------------------------------------------
CHANNEL = "C100"
GOALS = 14


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(seed=3) as server:
        yield server


@pytest.fixture
def services(tmp_path: Path, fake: FakeSlack) -> Iterator[Services]:
    with slack_services(tmp_path, fake.url, START) as services:
        _remind(services.sessions, CHANNEL, "tz UTC", START)
        ingest(services.sessions, tracker_issue(*(f"Due {n}" for n in range(GOALS))), START)
        yield services


def _slack_poster(services: Services, timeout: int = 30) -> SlackPoster:
    client = make_web_client(
        services.settings,
        services.settings.bot_token,
        timeout=timeout,
        retry_handlers=POSTING_RETRY_HANDLERS,
    )
    return SlackPoster(lambda _team: client, pacer=ChannelPacer(sleep=lambda _s: None))


def _asked(fake: FakeSlack) -> Counter[str]:
    """How often each goal was asked about in the channel (by its Met button)."""
    asked: Counter[str] = Counter()
    for message in fake.posted_messages(CHANNEL):
        for block in message["blocks"]:
            for element in block.get("elements") or []:
                match = re.fullmatch(r"status (g\d+) met", str(element.get("value", "")))
                asked.update([match.group(1)] if match else [])
                if str(element.get("value", "")).startswith("list "):
                    asked.update(element["value"].split()[1:])
    return asked


def _all_sent(services: Services) -> bool:
    with services.sessions() as session:
        statuses = set(session.scalars(select(Delivery.status).where(Delivery.kind == FOLLOWUP)))
    return statuses == {DeliveryStatus.SENT}


class _Crash(BaseException):
    """The process dying: not an Exception, so nothing in the tick handles it."""


class _DiesAfterPosting:
    def __init__(self, poster: SlackPoster) -> None:
        self.poster = poster

    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        self.poster.post(team_id, channel_id, message)
        raise _Crash  # Slack has the message; the ledger never hears of it

    def find_posted(
        self, team_id: str, channel_id: str, since: datetime, delivery_ids: set[int]
    ) -> set[int]:
        return self.poster.find_posted(team_id, channel_id, since, delivery_ids)


def test_a_crash_after_the_post_asks_once(services: Services, fake: FakeSlack) -> None:
    dying = Ticker(services.sessions, _DiesAfterPosting(_slack_poster(services)), worker_id="x")
    with pytest.raises(_Crash):
        dying.tick(FOLLOW_UP_MORNING)
    assert len(fake.posted_messages(CHANNEL)) == 1
    fresh = Ticker(services.sessions, _slack_poster(services), worker_id="fresh")
    assert fresh.tick(FOLLOW_UP_MORNING + timedelta(minutes=1)).sent == 0  # lease held
    report = fresh.tick(FOLLOW_UP_MORNING + ledger.CLAIM_LEASE)
    assert report.recovered > 0 and report.messages == 0
    assert len(fake.posted_messages(CHANNEL)) == 1
    assert set(_asked(fake).values()) == {1} and len(_asked(fake)) == GOALS
    assert _all_sent(services)


def test_a_timeout_after_slack_accepted_asks_once(services: Services, fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", Fault("timeout", delay=5.0))
    ticker = Ticker(services.sessions, _slack_poster(services, timeout=1), worker_id="slow")
    report = ticker.tick(FOLLOW_UP_MORNING)
    assert report.sent == 0 and report.retried > 0
    now = FOLLOW_UP_MORNING
    for _ in range(5):
        now += timedelta(minutes=1)
        ticker.tick(now)
    assert fake.calls_to("conversations.history")
    assert len(fake.posted_messages(CHANNEL)) == 1
    assert set(_asked(fake).values()) == {1} and len(_asked(fake)) == GOALS
    assert _all_sent(services)


def test_retry_after_holds_the_follow_ups_and_sends_them_once(
    services: Services, fake: FakeSlack
) -> None:
    fake.fail_channel_next(CHANNEL, Fault("rate_limited", retry_after=90))
    ticker = Ticker(services.sessions, _slack_poster(services), worker_id="w")
    assert ticker.tick(FOLLOW_UP_MORNING).retried > 0
    ticker.tick(FOLLOW_UP_MORNING + timedelta(seconds=60))
    assert fake.posted_messages(CHANNEL) == []  # Retry-After has not passed
    ticker.tick(FOLLOW_UP_MORNING + timedelta(seconds=91))
    assert len(fake.posted_messages(CHANNEL)) == 1
    assert set(_asked(fake).values()) == {1} and len(_asked(fake)) == GOALS
    assert _all_sent(services)


def test_the_longest_goals_still_fit_one_message() -> None:
    """Ten goals of 3,000 characters with 1,000-character titles, and a long list behind
    the button: within Slack's limits (blocks, fields, total characters)."""
    brief = BriefView(
        ref="b1",
        kind="policy",
        title="T" * 1000,
        title_original="",
        bodies=("MIIT",),
        bodies_more=False,
        published_on=date(2024, 11, 1),
        summary="",
        comment="",
        links=(),
        source_label="",
        goals=(),
    )
    goals = tuple(
        DeadlineView(
            GoalView(
                ref=f"g{n}",
                text="a <target> & " * 230,
                due_on=date(2027, 12, 31),
                precision="year",
                window_start=None,
                status="open",
                days_left=-7,
            ),
            brief,
        )
        for n in range(MAX_FOLLOW_UPS)
    )
    more = tuple(f"g{n}" for n in range(100_000, 100_400))
    payload = {**follow_up_payload(FollowUp(goals, (1,), more)), "response_type": "in_channel"}
    assert_valid_message(payload)
    assert len(_answer_values(payload)) == 3 * MAX_FOLLOW_UPS
