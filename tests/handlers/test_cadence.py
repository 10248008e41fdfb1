"""The option grammar of subscribe, remind and quiet: every schedule-like word is understood
or refused with a sentence saying what is, and a refusal writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import ChannelSettings, ReminderRule, ScheduleKind, Subscription
from policybot.data.schedules import Schedule, next_run, runs_on
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.panel import subscribe_command
from tests.conftest import NOW

CONTEXT = Context(now=NOW, team_id="T1", channel_id="C1", user_id="U1")


def rows(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Subscription)) or 0,
            session.scalar(select(func.count()).select_from(ReminderRule)) or 0,
            session.scalar(select(func.count()).select_from(ChannelSettings)) or 0,
        )


@pytest.fixture
def runner(factory: sessionmaker[Session]) -> CommandRunner:
    return CommandRunner(factory)


REFUSED = [
    ("subscribe storage twice a day", "can't deliver `twice a day`"),
    ("subscribe storage hourly", "can't deliver `hourly`"),
    ("subscribe storage biweekly", "can't deliver `biweekly`"),
    ("subscribe storage fortnightly", "can't deliver"),
    ("subscribe storage quarterly", "can't deliver"),
    ("subscribe storage every other week", "can't deliver `every other week`"),
    ("subscribe storage every 2 weeks", "can't deliver `every 2 weeks`"),
    ("subscribe storage every week", "`every week` needs a day"),
    ("subscribe storage weekly", "`weekly` needs a day"),
    ("subscribe storage weekly someday", "`weekly` needs a day"),
    ("subscribe storage monday", "Did you mean `weekly monday`?"),
    ("subscribe storage 9am", "Did you mean `at 9am`?"),
    ("subscribe storage 09:00", "Did you mean `at 09:00`?"),
    ("subscribe storage at 25:00", "`at 25:00` is not a time"),
    ("subscribe storage at noonish", "`at noonish` is not a time"),
    ("subscribe storage at", "`at` needs a time"),
    ("subscribe storage tz", "`tz` needs a time zone"),
    ("subscribe storage tz Mars/Olympus", "I don't know the time zone"),
    ("subscribe storage daily weekly monday", "Pick one schedule"),
    ("subscribe storage monthly on the 40th", "a day of the month is 1 to 31"),
    ("subscribe storage monthly on", "Which day of the month?"),
    ("remind storage monthly", "is for digests"),
    ("remind storage every monday", "is for digests"),
    ("remind storage twice a day", "Reminders come before each deadline"),
    ("remind storage leads soon", "`soon` is not a lead time"),
    ("remind storage leads 400,0,-5", "`-5` is not a lead time"),
    ("remind storage leads 30 leads 7", "`leads` was given twice"),
    ("remind storage at 9:75", "`at 9:75` is not a time"),
    ("quiet 25:00-08:00", "Quiet hours need real times"),
    ("quiet evenings", "Write quiet hours as"),
    ("quiet 20:00-20:00", "must start and end at different times"),
    ("quiet off now", "takes nothing after `off`"),
]


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize(("command", "expected"), REFUSED, ids=[c for c, _ in REFUSED])
def test_malformed_options_are_refused_and_write_nothing(
    runner: CommandRunner, factory: sessionmaker[Session], command: str, expected: str
) -> None:
    before = rows(factory)
    reply = runner.run(command, CONTEXT)
    assert reply.is_error, reply.text
    assert expected in reply.text
    assert rows(factory) == before


UNDERSTOOD = [
    ("subscribe storage monthly", ScheduleKind.MONTHLY, None, 1, "monthly on the 1st"),
    ("subscribe storage monthly on the 15th", ScheduleKind.MONTHLY, None, 15, "the 15th"),
    ("subscribe storage every month on the last", ScheduleKind.MONTHLY, None, 31, "last day"),
    ("subscribe storage monthly on the last day", ScheduleKind.MONTHLY, None, 31, "last day"),
    (
        "subscribe storage weekdays at 8am",
        ScheduleKind.WEEKDAYS,
        None,
        None,
        "on weekdays at 08:00",
    ),
    ("subscribe storage every weekday", ScheduleKind.WEEKDAYS, None, None, "on weekdays"),
    ("subscribe battery every monday", ScheduleKind.WEEKLY, 0, None, "weekly on Monday"),
    ("subscribe battery fridays", ScheduleKind.WEEKLY, 4, None, "weekly on Friday"),
    ("subscribe battery weekly thu", ScheduleKind.WEEKLY, 3, None, "weekly on Thursday"),
    ("subscribe battery every day", ScheduleKind.DAILY, None, None, "daily at 09:00"),
    ("subscribe battery instant", ScheduleKind.INSTANT, None, None, "instantly"),
    ("subscribe storage weekly on friday", ScheduleKind.WEEKLY, 4, None, "weekly on Friday"),
    ("subscribe storage daily at 9", ScheduleKind.DAILY, None, None, "daily at 09:00"),
    ("subscribe storage daily at noon", ScheduleKind.DAILY, None, None, "daily at 12:00"),
]


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize(
    ("command", "kind", "weekday", "month_day", "said"), UNDERSTOOD, ids=[u[0] for u in UNDERSTOOD]
)
def test_cadences_are_understood_and_said_back(
    runner: CommandRunner,
    factory: sessionmaker[Session],
    command: str,
    kind: ScheduleKind,
    weekday: int | None,
    month_day: int | None,
    said: str,
) -> None:
    reply = runner.run(command, CONTEXT)
    assert not reply.is_error, reply.text
    assert said in reply.text
    with factory() as session:
        subscription = session.scalars(select(Subscription)).one()
        assert subscription.schedule == kind
        assert subscription.weekday == weekday
        assert subscription.month_day == month_day
        # The query is what is left: no schedule word is searched for.
        assert subscription.query_text in ("storage", "battery")


def test_weekdays_skip_the_weekend() -> None:
    schedule = Schedule(ScheduleKind.WEEKDAYS, 9 * 60, timezone="Europe/Berlin")
    friday_after_nine = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert next_run(schedule, friday_after_nine) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert [runs_on(schedule, date(2026, 12, d)) for d in range(5, 8)] == [False, False, True]


def test_monthly_on_a_day_the_month_lacks_runs_on_its_last_day() -> None:
    schedule = Schedule(ScheduleKind.MONTHLY, 9 * 60, timezone="UTC", month_day=31)
    assert next_run(schedule, datetime(2027, 2, 1, tzinfo=UTC)) == datetime(
        2027, 2, 28, 9, 0, tzinfo=UTC
    )
    assert next_run(schedule, datetime(2027, 2, 28, 10, 0, tzinfo=UTC)) == datetime(
        2027, 3, 31, 9, 0, tzinfo=UTC
    )
    fifteenth = Schedule(ScheduleKind.MONTHLY, 8 * 60, timezone="America/New_York", month_day=15)
    # Across the DST change in March the local time holds.
    assert next_run(fifteenth, datetime(2027, 2, 16, tzinfo=UTC)) == datetime(
        2027, 3, 15, 12, 0, tzinfo=UTC
    )


@pytest.mark.usefixtures("corpus")
def test_subscribe_previews_the_last_30_days_and_sample_posts_them(
    runner: CommandRunner, factory: sessionmaker[Session]
) -> None:
    reply = runner.run("subscribe storage weekly monday", CONTEXT)
    assert "In the last 30 days it would have delivered" in " ".join(reply.notes)
    assert reply.briefs and len(reply.briefs) <= 3
    sample = next(b for b in reply.buttons if b.label == "Post a sample")
    posted = runner.run(sample.command, CONTEXT)
    assert posted.visibility == "in_channel"
    assert [b.ref for b in posted.briefs][: len(reply.briefs)] == [b.ref for b in reply.briefs]
    other_channel = Context(now=NOW, team_id="T1", channel_id="C2", user_id="U1")
    assert runner.run(sample.command, other_channel).is_error  # another channel's subscription


@pytest.mark.parametrize("cadence", ["daily", "weekdays", "weekly", "monthly", "instant"])
@pytest.mark.usefixtures("corpus")
def test_the_subscribe_form_offers_every_cadence_the_grammar_takes(
    runner: CommandRunner, cadence: str
) -> None:
    command = subscribe_command("storage", cadence, "friday", "08:30", "UTC")
    reply = runner.run(command, CONTEXT)
    assert not reply.is_error, reply.text
