"""Digests under a fixed clock: schedules, DST, downtime, restarts, failures; both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import BodyAlias, Delivery, DeliveryStatus, Subscription
from policybot.handlers.commands import Handler
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import (
    quiet,
    subscribe,
    subscriptions,
    unsubscribe,
    unsubscribe_all,
)
from policybot.scheduler import ledger
from policybot.scheduler.kinds.digest import plan_digests
from policybot.scheduler.messages import DeliveryError, FailureKind, Outgoing
from policybot.scheduler.registry import OWNERS
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def ctx(now: datetime, channel: str = "C1", team: str = "T1", user: str = "U1") -> Context:
    return Context(now=now, team_id=team, channel_id=channel, user_id=user)


def do(factory: sessionmaker[Session], handler: Handler, context: Context, text: str) -> str:
    with factory() as session, session.begin():
        reply = handler(Request(session, context, text, 1))
    return reply.text + " " + " ".join(reply.notes)


@pytest.fixture
def poster() -> RecordingPoster:
    return RecordingPoster()


@pytest.fixture
def ticker(factory: sessionmaker[Session], poster: RecordingPoster) -> Ticker:
    return Ticker(factory, poster, worker_id="test", max_workers=1)


def test_daily_digest_arrives_once_at_local_time(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    created = at(BERLIN, 2026, 12, 1, 7, 0)
    text = do(factory, subscribe, ctx(created), "storage daily at 09:00 tz Europe/Berlin")
    assert "Subscribed s" in text and "Tue 1 Dec 2026 09:00 CET" in text
    ingest(
        factory, tracker_issue("Storage Plan A", "Storage Plan B"), at(BERLIN, 2026, 12, 1, 8, 0)
    )
    ingest(
        factory, tracker_issue("Fishing Rules", words="fisheries"), at(BERLIN, 2026, 12, 1, 8, 5)
    )

    assert ticker.tick(at(BERLIN, 2026, 12, 1, 8, 59)).sent == 0
    report = ticker.tick(at(BERLIN, 2026, 12, 1, 9, 0))
    assert report.sent == 2 and report.messages == 1
    assert sorted(poster.brief_titles("C1")) == ["Storage Plan A", "Storage Plan B"]
    for later in (at(BERLIN, 2026, 12, 1, 9, 1), at(BERLIN, 2026, 12, 2, 9, 0)):
        assert ticker.tick(later).sent == 0
    assert len(poster.digests()) == 1


def test_weekly_digest_waits_for_its_day(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(sunday), "weekly monday at 08:30 tz UTC")
    ingest(factory, tracker_issue("Weekly Item"), sunday + timedelta(minutes=5))
    assert ticker.tick(sunday + timedelta(hours=12)).sent == 0
    assert ticker.tick(datetime(2026, 11, 30, 8, 30, tzinfo=UTC)).sent == 1


def test_instant_subscription_and_quiet_hours(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    noon = at(BERLIN, 2026, 12, 1, 12, 0)
    do(factory, subscribe, ctx(noon), "storage instant")
    ingest(factory, tracker_issue("Instant Storage"), noon + timedelta(minutes=1))
    assert ticker.tick(noon + timedelta(minutes=2)).sent == 1
    do(factory, quiet, ctx(noon), "20:00-08:00 tz Europe/Berlin")
    evening = at(BERLIN, 2026, 12, 1, 22, 0)
    ingest(factory, tracker_issue("Late Storage"), evening)
    assert ticker.tick(evening + timedelta(minutes=1)).sent == 0
    assert ticker.tick(at(BERLIN, 2026, 12, 2, 7, 59)).sent == 0
    assert ticker.tick(at(BERLIN, 2026, 12, 2, 8, 0)).sent == 1
    assert poster.brief_titles() == ["Instant Storage", "Late Storage"]


@pytest.mark.parametrize(
    ("zone", "days"),
    [
        ("Europe/Berlin", [(2026, 3, 28), (2026, 3, 29), (2026, 3, 30)]),
        ("Europe/Berlin", [(2026, 10, 24), (2026, 10, 25), (2026, 10, 26)]),
        ("America/New_York", [(2026, 3, 7), (2026, 3, 8), (2026, 3, 9)]),
        ("America/New_York", [(2026, 10, 31), (2026, 11, 1), (2026, 11, 2)]),
    ],
)
def test_digest_at_nine_local_on_both_sides_of_dst(
    factory: sessionmaker[Session],
    ticker: Ticker,
    poster: RecordingPoster,
    zone: str,
    days: list[tuple[int, int, int]],
) -> None:
    tz = ZoneInfo(zone)
    do(factory, subscribe, ctx(at(tz, *days[0], 0, 30)), f"daily at 09:00 tz {zone}")
    for day in days:
        ingest(factory, tracker_issue(f"Brief of {day}"), at(tz, *day, 1, 0))
        nine = at(tz, *day, 9, 0)
        assert ticker.tick(nine - timedelta(minutes=1)).sent == 0, day
        assert ticker.tick(nine).sent == 1, day
    assert len(poster.digests()) == 3


def test_three_days_of_downtime_give_one_digest(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start), "daily at 09:00 tz UTC")
    do(factory, subscribe, ctx(start, channel="C2"), "storage daily at 10:00 tz UTC")
    for day in range(3):
        ingest(factory, tracker_issue(f"Down Day {day}"), start + timedelta(days=day, hours=2))
    report = ticker.tick(start + timedelta(days=3, hours=4))  # back after three days
    assert report.messages == 2
    assert sorted(poster.brief_titles("C1")) == ["Down Day 0", "Down Day 1", "Down Day 2"]
    assert len(poster.digests("C2")) == 1
    assert ticker.tick(start + timedelta(days=3, hours=5)).sent == 0


def test_restart_between_claim_and_post_delivers_once(
    factory: sessionmaker[Session], poster: RecordingPoster
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start), "instant")
    ingest(factory, tracker_issue("Crash Brief"), start + timedelta(seconds=10))
    with factory() as session, session.begin():
        plan_digests(session, start + timedelta(minutes=1))
        claimed = ledger.claim_due(session, start + timedelta(minutes=1), "dead-worker", OWNERS)
    assert len(claimed) == 1  # ...and the worker dies before posting.
    fresh = Ticker(factory, poster, worker_id="fresh", max_workers=1)
    assert fresh.tick(start + timedelta(minutes=2)).sent == 0  # lease still held
    assert fresh.tick(start + timedelta(minutes=1) + ledger.CLAIM_LEASE).sent == 1
    assert fresh.tick(start + timedelta(hours=1)).sent == 0
    assert poster.brief_titles() == ["Crash Brief"]


def test_brief_ingested_during_a_run_is_not_lost(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start), "instant")
    run_at = start + timedelta(minutes=5)
    assert ticker.tick(run_at).sent == 0
    # An ingestion that began before the run (its clock) but committed after it.
    ingest(factory, tracker_issue("Slow Ingest"), run_at - timedelta(seconds=30))
    assert ticker.tick(run_at + timedelta(minutes=1)).sent == 1
    assert poster.brief_titles() == ["Slow Ingest"]


def test_failed_post_is_retried_and_sent_once(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start), "instant")
    ingest(factory, tracker_issue("Retry Brief"), start + timedelta(seconds=10))
    poster.fail_with.append(DeliveryError(FailureKind.RETRY, "ratelimited"))
    report = ticker.tick(start + timedelta(minutes=1))
    assert report.retried == 1 and report.sent == 0
    assert ticker.tick(start + timedelta(minutes=2)).sent == 0  # backing off
    assert ticker.tick(start + timedelta(minutes=10)).sent == 1
    assert ticker.tick(start + timedelta(hours=2)).sent == 0
    assert poster.brief_titles() == ["Retry Brief"]


def test_channel_not_found_pauses_and_resubscribe_resumes(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start, user="U9"), "instant")
    ingest(factory, tracker_issue("Paused Brief"), start + timedelta(seconds=10))
    poster.fail_with.append(DeliveryError(FailureKind.CHANNEL, "channel_not_found"))
    report = ticker.tick(start + timedelta(minutes=1))
    assert report.paused and report.sent == 0
    notices = [m for _, channel, m in poster.posts if channel == "U9"]
    assert notices and "channel_not_found" in notices[0].text  # type: ignore[union-attr]
    listing = do(factory, subscriptions, ctx(start), "")
    assert "paused" in listing and "channel_not_found" in listing
    assert ticker.tick(start + timedelta(hours=3)).sent == 0  # nothing while paused
    with factory() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING)
        )
    assert pending == 1  # kept, not dropped
    assert "Resumed" in do(factory, subscribe, ctx(start + timedelta(hours=4)), "instant")
    assert ticker.tick(start + timedelta(hours=4, minutes=1)).sent == 1
    assert poster.brief_titles() == ["Paused Brief"]


def test_unsubscribe_drops_pending_and_stops(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start), "daily at 09:00 tz UTC")
    ingest(factory, tracker_issue("Never Sent"), start + timedelta(seconds=10))
    with factory() as session:
        sub_id = session.scalar(select(Subscription.id))
    assert "Removed" in do(factory, unsubscribe, ctx(start), f"s{sub_id}")
    assert ticker.tick(start + timedelta(days=1)).sent == 0
    assert poster.posts == []


def test_other_channel_cannot_unsubscribe(factory: sessionmaker[Session]) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start, channel="C1"), "storage")
    with factory() as session:
        sub_id = session.scalar(select(Subscription.id))
    text = do(factory, subscribe, ctx(start, channel="C2"), "storage")
    assert "Subscribed" in text
    from policybot.data.errors import UserError

    with pytest.raises(UserError):
        do(factory, unsubscribe, ctx(start, channel="C2", team="T2"), f"s{sub_id}")


def test_unexpected_error_in_a_post_is_never_reposted_blind(
    factory: sessionmaker[Session], poster: RecordingPoster
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start), "instant")
    ingest(
        factory,
        tracker_issue(*(f"Part Brief {n}" for n in range(13))),
        start + timedelta(seconds=10),
    )

    class BreaksOnFirstPost(RecordingPoster):
        def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
            raise RuntimeError("renderer bug")

    Ticker(factory, BreaksOnFirstPost(), worker_id="w1", max_workers=1).tick(
        start + timedelta(minutes=1)
    )
    later = Ticker(factory, poster, worker_id="w2", max_workers=1)
    later.tick(start + timedelta(minutes=2))  # the rows are still held by w1
    assert poster.posts == []
    later.tick(start + timedelta(minutes=1) + ledger.CLAIM_LEASE)
    (digest,) = poster.digests()
    # One message for the slot: ten briefs shown, the other three named behind a button.
    assert len(digest.briefs) == 10 and len(digest.more_briefs) == 3
    assert digest.brief_count == 13


def test_unsubscribe_also_stops_rows_a_dead_worker_held(
    factory: sessionmaker[Session], poster: RecordingPoster
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start), "instant")
    ingest(factory, tracker_issue("Held Brief"), start + timedelta(seconds=10))
    with factory() as session, session.begin():
        plan_digests(session, start + timedelta(minutes=1))
        assert (
            len(ledger.claim_due(session, start + timedelta(minutes=1), "dead-worker", OWNERS)) == 1
        )
    assert "Removed" in do(factory, unsubscribe_all, ctx(start), "")
    Ticker(factory, poster, worker_id="w2", max_workers=1).tick(start + timedelta(hours=1))
    assert poster.posts == []


def test_many_due_subscriptions_planned_set_wise_each_to_its_own_next_slot(
    factory: sessionmaker[Session],
) -> None:
    """Planning writes schedules back per slot, not per subscription: each subscription
    still gets its own next slot, a quiet instant one waits, a broken query is paused."""
    created = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    ingest(factory, tracker_issue("Earlier Plan"), created - timedelta(days=1))  # knows MIIT
    specs = {
        "C1": "storage daily at 09:00 tz UTC",
        "C2": "storage daily at 09:00 tz Europe/Berlin",
        "C3": "weekly friday at 09:00 tz UTC",
        "C4": "instant",
        "C5": "body:MIIT instant",
    }
    for n in range(30):
        for channel, text in specs.items():
            do(factory, subscribe, ctx(created, f"{channel}-{n}"), text)
    do(factory, quiet, ctx(created, "C4-0"), "06:00-12:00 tz UTC")
    ingest(factory, tracker_issue("Setwise Storage Plan"), created + timedelta(minutes=5))
    with factory() as session, session.begin():
        # Every subscription due now (as after downtime); MIIT is no longer a known body.
        session.execute(update(Subscription).values(next_due_at=created + timedelta(hours=1)))
        session.execute(delete(BodyAlias).where(BodyAlias.normalized == "miit"))
    now = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # Tuesday
    with factory() as session, session.begin():
        planned = plan_digests(session, now)
    with factory() as session:
        rows = session.execute(
            select(
                Subscription.channel_id,
                Subscription.next_due_at,
                Subscription.checked_until,
                Subscription.paused_reason,
            )
        ).all()
        ledger_rows = session.scalar(select(func.count()).select_from(Delivery))
    by_channel = {channel: (due, checked, paused) for channel, due, checked, paused in rows}
    assert planned == ledger_rows == 30 * 3 + 29  # storage x2, weekly (all briefs), instant
    # Marks move to the newest brief planning read, not to `now`.
    seen = created + timedelta(minutes=5)
    for n in range(30):
        assert by_channel[f"C1-{n}"][:2] == (datetime(2026, 12, 2, 9, 0, tzinfo=UTC), seen)
        assert by_channel[f"C2-{n}"][0] == at(BERLIN, 2026, 12, 2, 9, 0)
        assert by_channel[f"C3-{n}"][0] == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
        assert "no longer works" in (by_channel[f"C5-{n}"][2] or "")
        if n:
            assert by_channel[f"C4-{n}"][:2] == (now, seen)
    # The quiet channel waits for 12:00 and was not planned: its brief is still ahead of it.
    assert by_channel["C4-0"][0] == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert by_channel["C4-0"][1] < now


def test_a_tick_ahead_of_the_clock_does_not_pass_over_later_briefs(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """`policybot tick --now <next week>` on a test machine: briefs ingested afterwards
    (with today's timestamps) still reach the subscription."""
    today = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(today), "storage daily at 09:00 tz UTC")
    ingest(factory, tracker_issue("Before The Jump"), today + timedelta(minutes=5))
    ticker.tick(today + timedelta(days=7, hours=2))  # a tick a week ahead
    ingest(factory, tracker_issue("After The Jump"), today + timedelta(minutes=30))
    ticker.tick(today + timedelta(days=8, hours=2))
    assert poster.brief_titles() == ["Before The Jump", "After The Jump"]


def test_monthly_on_the_15th_delivers_on_the_15th(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    start = datetime(2027, 1, 3, 8, 0, tzinfo=UTC)
    do(factory, subscribe, ctx(start), "storage monthly on the 15th at 09:00 tz UTC")
    ingest(factory, tracker_issue("Monthly Plan"), start + timedelta(minutes=5))
    assert ticker.tick(datetime(2027, 1, 14, 9, 0, tzinfo=UTC)).sent == 0
    assert ticker.tick(datetime(2027, 1, 15, 9, 0, tzinfo=UTC)).sent == 1
    ingest(factory, tracker_issue("Next Monthly Plan"), datetime(2027, 1, 20, tzinfo=UTC))
    assert ticker.tick(datetime(2027, 2, 14, 9, 0, tzinfo=UTC)).sent == 0
    assert ticker.tick(datetime(2027, 2, 15, 9, 0, tzinfo=UTC)).sent == 1
