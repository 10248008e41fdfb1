"""Deadline alerts and follow-ups under a fixed clock, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Delivery, GoalAssessment, GoalStatus
from policybot.data.pauses import UNINSTALLED, pause_team, resume_team
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind, remind_off
from policybot.handlers.request import Request
from policybot.handlers.scorecard import scorecard, status
from policybot.scheduler.kinds.followup import FOLLOW_UP_DELAY
from policybot.scheduler.messages import AlertBatch, FollowUp
from policybot.scheduler.ticker import Ticker
from tests.conftest import NOW
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue


def ctx(now: datetime, channel: str = "C1", team: str = "T1") -> Context:
    return Context(now=now, team_id=team, channel_id=channel, user_id="U1")


def alerts(poster: RecordingPoster) -> list[tuple[str, int, bool]]:
    """(goal text start, days left, newly tracked) of every alert posted."""
    found = []
    for _, _, message in poster.posts:
        if isinstance(message, AlertBatch):
            found += [
                (a.goal.text[:30], a.goal.days_left or 0, a.newly_tracked) for a in message.alerts
            ]
    return found


@pytest.fixture
def poster() -> RecordingPoster:
    return RecordingPoster()


@pytest.fixture
def ticker(factory: sessionmaker[Session], poster: RecordingPoster) -> Ticker:
    return Ticker(factory, poster, worker_id="test", max_workers=1)


def set_up(
    factory: sessionmaker[Session], text: str = "", now: datetime = NOW, channel: str = "C1"
) -> None:
    with factory() as session, session.begin():
        remind(Request(session, ctx(now, channel), text, 1))


@pytest.mark.usefixtures("corpus")
def test_365_day_alerts_for_2027_goals_once(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    set_up(factory, "tz UTC")
    # Airbus's "by 2026" is a company's plan, not a policy target: no alerts for it.
    assert ticker.tick(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)).sent == 0
    assert ticker.tick(datetime(2026, 12, 24, 9, 0, tzinfo=UTC)).sent == 0
    assert ticker.tick(datetime(2026, 12, 31, 8, 59, tzinfo=UTC)).sent == 0
    ticker.tick(datetime(2026, 12, 31, 9, 0, tzinfo=UTC))
    year_end_2027 = [a for a in alerts(poster) if a[1] == 365]
    # Demo corpus: one 2027 goal in the new-materials plan, three in the storage plan (from
    # the lead-in), one in the lithium battery standards news.
    assert len(year_end_2027) == 5
    assert all(not newly for _, _, newly in year_end_2027)
    count = len(alerts(poster))
    assert ticker.tick(datetime(2026, 12, 31, 9, 0, tzinfo=UTC)).sent == 0
    assert ticker.tick(datetime(2027, 1, 1, 9, 0, tzinfo=UTC)).sent == 0
    restarted = Ticker(factory, poster, worker_id="after-restart", max_workers=1)
    assert restarted.tick(datetime(2027, 1, 1, 10, 0, tzinfo=UTC)).sent == 0
    assert len(alerts(poster)) == count


def test_goal_ingested_20_days_before_gets_newly_tracked_then_7_day(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    set_up(factory, "tz UTC")
    deadline = date(2027, 3, 31)
    arrives = datetime(2027, 3, 11, 12, 0, tzinfo=UTC)  # 20 days before
    raw = tracker_issue("Late Plan", published=date(2027, 3, 1))
    raw = raw.replace(b"By 2028,", b"By March 2027,")
    ingest(factory, raw, arrives)
    ticker.tick(arrives + timedelta(minutes=1))
    assert alerts(poster) == [("By March 2027, reach the energ", 20, True)]
    for day in range(1, 20):
        ticker.tick(datetime(2027, 3, 11, 9, 0, tzinfo=UTC) + timedelta(days=day))
    assert [a[1:] for a in alerts(poster)] == [(20, True), (7, False)]
    assert deadline - timedelta(days=7) == date(2027, 3, 24)


def test_missed_leads_fold_into_the_latest_after_downtime(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    set_up(factory, "leads 90,30,7 tz UTC", now=datetime(2027, 1, 1, tzinfo=UTC))
    raw = tracker_issue("Folded Plan", published=date(2026, 12, 1)).replace(
        b"By 2028,", b"By June 2027,"
    )
    ingest(factory, raw, datetime(2027, 1, 1, 1, 0, tzinfo=UTC))
    # Down from before the 90-day lead (2027-04-01) until after the 30-day one (2027-05-31).
    ticker.tick(datetime(2027, 6, 2, 9, 0, tzinfo=UTC))
    assert [a[1:] for a in alerts(poster)] == [(28, False)]
    with factory() as session:
        statuses = sorted(
            session.scalars(select(Delivery.status).where(Delivery.kind == "reminder"))
        )
    assert statuses == ["folded", "sent"]
    ticker.tick(datetime(2027, 6, 23, 9, 0, tzinfo=UTC))  # the 7-day lead still comes
    assert [a[1:] for a in alerts(poster)] == [(28, False), (7, False)]


def test_window_alerts_before_it_opens_and_before_it_closes(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    set_up(factory, "leads 7 tz UTC", now=datetime(2026, 1, 1, tzinfo=UTC))
    raw = tracker_issue("Window Plan", published=date(2026, 1, 10)).replace(
        b"By 2028, reach", b"Over the next one to two years, reach"
    )
    ingest(factory, raw, datetime(2026, 1, 2, tzinfo=UTC))
    ticker.tick(datetime(2027, 1, 3, 9, 0, tzinfo=UTC))  # 7 days before it opens (2027-01-10)
    ticker.tick(datetime(2028, 1, 3, 9, 0, tzinfo=UTC))  # 7 days before it closes (2028-01-10)
    notes = [
        (a.note, a.goal.days_left)
        for _, _, m in poster.posts
        if isinstance(m, AlertBatch)
        for a in m.alerts
    ]
    assert notes == [("window opens", 7), ("", 7)]


@pytest.mark.usefixtures("corpus")
def test_one_follow_up_per_channel_and_status_is_recorded(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    # Airbus's "by 2026" is a company's plan: rules follow it when they say so.
    set_up(factory, "airbus kind:company tz UTC", channel="C1")
    set_up(factory, "airbus kind:company tz UTC", channel="C2")
    after = datetime(2026, 12, 31, 9, 0, tzinfo=UTC) + FOLLOW_UP_DELAY
    for hours in (0, 1, 24):
        ticker.tick(after + timedelta(hours=hours))
    followups = [(channel, m) for _, channel, m in poster.posts if isinstance(m, FollowUp)]
    assert sorted(c for c, _ in followups) == ["C1", "C2"]
    goal_ref = followups[0][1].goals[0].goal.ref
    with factory() as session, session.begin():
        reply = status(
            Request(session, ctx(after, "C1"), f"{goal_ref} met the line opened in Tianjin", 1)
        )
    assert f"{goal_ref} marked met by U1" in reply.text
    with factory() as session:
        answer = session.scalar(select(GoalAssessment))
        assert answer is not None and answer.status == GoalStatus.MET and answer.answered_by == "U1"
        card = scorecard(Request(session, ctx(after, "C1"), "kind:company", 1))
        other_team = scorecard(Request(session, ctx(after, "C9", team="T2"), "kind:company", 1))
    assert card.text.startswith("Scorecard: 1 met")
    assert "met" not in other_team.text.split(":", 1)[1]  # another workspace sees no answer


def test_remind_off_drops_pending_alerts(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    set_up(factory, "tz UTC", now=datetime(2027, 1, 1, tzinfo=UTC))
    ingest(
        factory,
        tracker_issue("Dropped Plan", published=date(2027, 1, 1)),
        datetime(2027, 1, 1, 1, tzinfo=UTC),
    )
    with factory() as session, session.begin():
        text = remind_off(Request(session, ctx(datetime(2027, 1, 2, tzinfo=UTC)), "", 1)).text
    assert text.startswith("Reminders off")
    ticker.tick(datetime(2028, 12, 30, 9, 0, tzinfo=UTC))
    assert alerts(poster) == []
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


@pytest.mark.usefixtures("corpus")
def test_days_left_count_in_the_rules_time_zone(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    set_up(factory, "storage leads 365 tz Pacific/Auckland")
    # 09:00 on 31 Dec 2026 in Auckland is 20:00 UTC on 30 Dec.
    ticker.tick(datetime(2026, 12, 30, 20, 0, tzinfo=UTC))
    assert {days for _, days, _ in alerts(poster)} == {365}


def test_a_moved_deadline_is_alerted_again(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    set_up(factory, "leads 30 tz UTC", now=datetime(2026, 1, 1, tzinfo=UTC))
    draft = tracker_issue("Moving Plan", published=date(2026, 1, 5)).replace(
        b"By 2028,", b"By June 2026,"
    )
    ingest(factory, draft, datetime(2026, 1, 6, tzinfo=UTC))
    ticker.tick(datetime(2026, 5, 31, 9, 0, tzinfo=UTC))  # 30 days before 2026-06-30
    final = draft.replace(b"By June 2026,", b"By September 2026,")
    ingest(factory, final, datetime(2026, 6, 1, tzinfo=UTC))  # the final version moves it
    ticker.tick(datetime(2026, 8, 31, 9, 0, tzinfo=UTC))  # 30 days before 2026-09-30
    assert [days for _, days, _ in alerts(poster)] == [30, 30]


def test_a_deadline_moved_into_a_passed_lead_is_alerted_on_the_next_tick(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """A goal edited so that a lead of its new date already passed is read again (its brief
    was written since the rule last looked) and the latest such lead is sent."""
    set_up(factory, "leads 30,7 tz UTC", now=datetime(2026, 1, 1, tzinfo=UTC))
    draft = tracker_issue("Pulled Plan", published=date(2026, 1, 5)).replace(
        b"By 2028,", b"By December 2026,"
    )
    ingest(factory, draft, datetime(2026, 1, 6, tzinfo=UTC))
    ticker.tick(datetime(2026, 10, 14, 9, 0, tzinfo=UTC))
    assert alerts(poster) == []
    pulled = draft.replace(b"By December 2026,", b"By October 2026,")  # 30-day lead: 10-01
    ingest(factory, pulled, datetime(2026, 10, 15, tzinfo=UTC))
    ticker.tick(datetime(2026, 10, 15, 0, 1, tzinfo=UTC))
    ticker.tick(datetime(2026, 10, 15, 0, 2, tzinfo=UTC))
    assert [a[1:] for a in alerts(poster)] == [(16, False)]
    ticker.tick(datetime(2026, 10, 24, 9, 0, tzinfo=UTC))
    assert [a[1:] for a in alerts(poster)] == [(16, False), (7, False)]


def test_a_rule_resumed_after_lost_access_gets_the_latest_missed_lead(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """Paused rules are not planned, so their mark stays where it was: the leads that came
    due meanwhile fold into the latest, as after downtime."""
    set_up(factory, "leads 90,30,7 tz UTC", now=datetime(2027, 1, 1, tzinfo=UTC))
    raw = tracker_issue("Paused Plan", published=date(2026, 12, 1)).replace(
        b"By 2028,", b"By June 2027,"
    )
    ingest(factory, raw, datetime(2027, 1, 1, 1, 0, tzinfo=UTC))
    ticker.tick(datetime(2027, 1, 2, 9, 0, tzinfo=UTC))
    with factory() as session, session.begin():
        pause_team(session, "T1", UNINSTALLED, datetime(2027, 1, 3, tzinfo=UTC))
    for month in (3, 4, 5):
        ticker.tick(datetime(2027, month, 15, 9, 0, tzinfo=UTC))
    with factory() as session, session.begin():
        resume_team(session, "T1")
    ticker.tick(datetime(2027, 6, 2, 9, 0, tzinfo=UTC))
    assert [a[1:] for a in alerts(poster)] == [(28, False)]


def test_rules_in_several_zones_each_alert_once_over_daily_ticks(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    """Hourly ticks through the days of the alerts: every zone gets each lead once, on
    its own local morning, and re-running a tick (a restart) adds nothing."""
    zones = ["UTC", "Asia/Shanghai", "America/New_York", "Pacific/Auckland"]
    for n, zone in enumerate(zones):
        set_up(
            factory, f"leads 30,7 tz {zone}", now=datetime(2026, 1, 1, tzinfo=UTC), channel=f"C{n}"
        )
    raw = tracker_issue("Zoned Plan", published=date(2026, 1, 5)).replace(
        b"By 2028,", b"By June 2026,"
    )
    ingest(factory, raw, datetime(2026, 1, 6, tzinfo=UTC))
    for first_day in (datetime(2026, 5, 30, tzinfo=UTC), datetime(2026, 6, 22, tzinfo=UTC)):
        for hour in range(72):
            moment = first_day + timedelta(hours=hour)
            ticker.tick(moment)
            ticker.tick(moment)
    by_channel = sorted(
        (channel, a.lead_days)
        for _, channel, m in poster.posts
        if isinstance(m, AlertBatch)
        for a in m.alerts
    )
    assert by_channel == sorted((f"C{n}", lead) for n in range(len(zones)) for lead in (30, 7))
    with factory() as session:
        local_days = {
            (
                row.channel_id,
                row.sent_at.astimezone(ZoneInfo(zones[int(row.channel_id[1:])])).date(),
            )
            for row in session.scalars(select(Delivery).where(Delivery.status == "sent"))
            if row.sent_at is not None
        }
    assert {day for _, day in local_days} == {date(2026, 5, 31), date(2026, 6, 23)}


def test_updating_a_rule_sends_no_lead_again(
    factory: sessionmaker[Session], ticker: Ticker, poster: RecordingPoster
) -> None:
    set_up(factory, "leads 30 tz UTC", now=datetime(2026, 1, 1, tzinfo=UTC))
    raw = tracker_issue("Updated Plan", published=date(2026, 1, 5)).replace(
        b"By 2028,", b"By June 2026,"
    )
    ingest(factory, raw, datetime(2026, 1, 6, tzinfo=UTC))
    ticker.tick(datetime(2026, 5, 31, 9, 0, tzinfo=UTC))
    # The rule gains leads that already passed (90) and one still ahead (7).
    set_up(factory, "leads 90,30,7 tz UTC", now=datetime(2026, 6, 1, tzinfo=UTC))
    for day in range(1, 25):
        ticker.tick(datetime(2026, 6, day, 9, 0, tzinfo=UTC))
    assert [a[1:] for a in alerts(poster)] == [(30, False), (7, False)]
