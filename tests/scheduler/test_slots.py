"""One message per channel per slot: three overlapping subscriptions and two reminder rules
in one channel over a simulated week. Each slot posts once, each brief arrives once (naming
every subscription it matched), alerts ride along, caps hold, no goal is alerted twice in
a day, and a restart changes none of it. Both engines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Goal, Subscription
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler.kinds.slot import MAX_ALERTS, MAX_BRIEFS
from policybot.scheduler.messages import AlertBatch, Digest
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue

START = datetime(2027, 12, 27, 8, 0, tzinfo=UTC)
DAYS = 7
CAP_DAY = 2  # the day a large issue arrives: more briefs than one message shows


def _context(now: datetime) -> Context:
    return Context(now=now, team_id="T1", channel_id="C1", user_id="U1")


def _set_up(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        for words in ("storage", "battery", "energy"):
            subscribe(Request(session, _context(START), f"{words} daily at 09:00 tz UTC", 1))
        remind(Request(session, _context(START), "tz UTC", 1))  # every goal, at 09:00
        remind(
            Request(session, _context(START), "storage at 10:00 tz UTC", 1)
        )  # the same goals later


def test_a_week_of_overlapping_subscriptions_and_reminders(
    factory: sessionmaker[Session],
) -> None:
    _set_up(factory)
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="week-1", max_workers=1)
    expected: list[str] = []
    per_tick: list[int] = []
    for day in range(DAYS):
        if day == 4:  # a restart: a new process with a new worker id
            ticker = Ticker(factory, poster, worker_id="week-2", max_workers=1)
        morning = START + timedelta(days=day)
        count = 14 if day == CAP_DAY else 3
        titles = [f"Day {day} Brief {n}" for n in range(count)]
        expected += titles
        ingest(
            factory,
            tracker_issue(*titles, words="energy storage battery"),
            morning + timedelta(minutes=30),
        )
        for hour in (9, 10, 15):
            before = len(poster.posts)
            ticker.tick(morning.replace(hour=hour))
            per_tick.append(len(poster.posts) - before)
    digests = [m for _, _, m in poster.posts if isinstance(m, Digest)]
    alert_batches = [m for _, _, m in poster.posts if isinstance(m, AlertBatch)]
    # One message per slot: the 09:00 slot of each day, nothing at 10:00 (the second rule's
    # alerts were all sent by the first rule that morning) or 15:00.
    assert per_tick == [1, 0, 0] * DAYS, per_tick
    assert len(digests) == DAYS and not alert_batches
    # Each brief once, whichever of the three subscriptions matched it, naming all three.
    delivered = Counter(
        ref for d in digests for ref in (*(b.ref for b in d.briefs), *d.more_briefs)
    )
    assert len(delivered) == len(expected) and set(delivered.values()) == {1}
    with factory() as session:
        refs = tuple(f"s{i}" for i in sorted(session.scalars(select(Subscription.id))))
    assert len(refs) == 3
    assert all(matched == refs for d in digests for matched in d.matched)
    # The cap: one message shows at most MAX_BRIEFS and names the rest.
    capped = digests[CAP_DAY]
    assert len(capped.briefs) == MAX_BRIEFS and len(capped.more_briefs) == 14 - MAX_BRIEFS
    # Alerts ride in the digest of their slot: the 365-day alerts of 1 January 2028.
    new_year = digests[5]
    assert new_year.alerts and all(a.lead_days == 365 for a in new_year.alerts)
    # No goal alerted twice in a day, although two rules follow it.
    alerted = Counter((a.goal.ref, index) for index, d in enumerate(digests) for a in d.alerts)
    assert set(alerted.values()) == {1}
    # Nothing more is due, and a further tick after the restart sends nothing again.
    assert ticker.tick(START + timedelta(days=DAYS, hours=1)).sent == 0


def test_newly_tracked_and_the_lead_alert_of_one_morning_come_once(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        remind(Request(session, _context(START), "tz UTC", 1))
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="morning", max_workers=1)
    # Due 31 March 2028; it arrives on 1 March at 08:30, after its 365/180/90-day leads.
    arrives = datetime(2028, 3, 1, 8, 30, tzinfo=UTC)
    raw = tracker_issue("Late March Plan").replace(b"By 2028,", b"By March 2028,")
    ingest(factory, raw, arrives)
    ticker.tick(arrives + timedelta(minutes=15))  # "newly tracked, 30 days left"
    ticker.tick(arrives.replace(hour=9))  # the 30-day lead: the same goal, the same morning
    ticker.tick(arrives.replace(hour=9) + timedelta(days=23))  # the 7-day lead still comes
    alerts = [
        (a.newly_tracked, a.goal.days_left)
        for _, _, m in poster.posts
        if isinstance(m, AlertBatch | Digest)
        for a in m.alerts
    ]
    assert alerts == [(True, 30), (False, 7)]


def test_a_brief_reaches_a_channel_once_across_its_schedules(
    factory: sessionmaker[Session],
) -> None:
    """An instant and a weekly subscription of one channel both match a brief: the channel
    gets it once (from the first), and the weekly digest does not repeat it."""
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with factory() as session, session.begin():
        subscribe(Request(session, _context(monday), "battery instant", 1))
        subscribe(Request(session, _context(monday), "storage weekly friday at 09:00 tz UTC", 1))
    ingest(factory, tracker_issue("Storage Battery Plan"), monday + timedelta(hours=1))
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="once", max_workers=1)
    ticker.tick(monday + timedelta(hours=2))
    ticker.tick(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))  # Friday: the weekly slot
    digests = [m for _, _, m in poster.posts if isinstance(m, Digest)]
    assert [b.title for d in digests for b in d.briefs] == ["Storage Battery Plan"]


def test_alerts_past_the_cap_are_named_in_days_left_order(
    factory: sessionmaker[Session],
) -> None:
    """More alerts than one message shows: the nearest MAX_ALERTS in full, the rest by ref
    in the same order (nearest first), and the message stands for every alert's row."""
    with factory() as session, session.begin():
        remind(Request(session, _context(START), "tz UTC", 1))
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="capped", max_workers=1)
    arrives = datetime(2028, 3, 1, 8, 30, tzinfo=UTC)
    # Twelve goals, due at the end of March 2028 ... February 2029, listed out of order: each
    # arrives after a lead of its own, so the morning alerts all twelve as newly tracked.
    months = [f"{m} 2028" for m in ("April", "May", "June", "July", "August", "September")]
    months += [f"{m} 2028" for m in ("October", "November", "December", "March")]
    months += ["February 2029", "January 2029"]
    raw = b"\n\n".join(
        tracker_issue(f"Plan {n}").replace(b"By 2028,", f"By {month},".encode())
        for n, month in enumerate(months)
    )
    ingest(factory, raw, arrives)
    ticker.tick(arrives + timedelta(minutes=15))
    batches = [m for _, _, m in poster.posts if isinstance(m, AlertBatch)]
    assert len(batches) == 1
    batch = batches[0]
    shown = [a.goal.days_left for a in batch.alerts if a.goal.days_left is not None]
    assert len(shown) == MAX_ALERTS and shown == sorted(shown)
    assert all(a.newly_tracked and a.brief.title for a in batch.alerts)
    assert len(batch.more) == len(months) - MAX_ALERTS
    with factory() as session:
        due = {
            f"g{goal_id}": due_on
            for goal_id, due_on in session.execute(select(Goal.id, Goal.due_on))
            if due_on is not None
        }
    assert len(due) == len(months)
    # The refs past the cap come after every shown alert, nearest first.
    later = [due[ref] for ref in batch.more]
    assert later == sorted(later) and min(later) > max(due[a.goal.ref] for a in batch.alerts)
    assert len(batch.delivery_ids) == len(months)
