"""Schedules in local time across DST changes, and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from policybot.data.models import ScheduleKind
from policybot.data.schedules import (
    Schedule,
    in_quiet_hours,
    local_instant,
    next_run,
    parse_clock,
    quiet_hours_end,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # Spring forward: Berlin 2025-03-30, New York 2025-03-09.
        (BERLIN, (2025, 3, 29), (2025, 3, 31)),
        (NEW_YORK, (2025, 3, 8), (2025, 3, 10)),
        # Fall back: Berlin 2025-10-26, New York 2025-11-02.
        (BERLIN, (2025, 10, 25), (2025, 10, 27)),
        (NEW_YORK, (2025, 11, 1), (2025, 11, 3)),
    ],
)
def test_daily_nine_oclock_stays_nine_local_across_dst(
    zone: str, before: tuple[int, int, int], after: tuple[int, int, int]
) -> None:
    schedule = Schedule(ScheduleKind.DAILY, 9 * 60, None, zone)
    start = local(zone, *before, 8, 0).astimezone(UTC)  # runs: before, DST day, after
    runs = []
    moment = start
    for _ in range(3):
        moment = next_run(schedule, moment)
        runs.append(moment)
    locals_ = [r.astimezone(ZoneInfo(zone)) for r in runs]
    assert [(d.hour, d.minute) for d in locals_] == [(9, 0)] * 3
    assert [d.date() for d in locals_][-1] == datetime(*after).date()
    # The UTC hour changes by exactly one across the transition.
    assert runs[0].hour != runs[-1].hour


def test_nonexistent_local_time_fires_when_clocks_jump() -> None:
    # Berlin 2025-03-30: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:30 does not exist.
    instant = local_instant(datetime(2025, 3, 30).date(), 2 * 60 + 30, ZoneInfo(BERLIN))
    assert instant == utc(2025, 3, 30, 1, 0)


def test_repeated_local_time_fires_once_at_first_occurrence() -> None:
    # New York 2025-11-02: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    schedule = Schedule(ScheduleKind.DAILY, 90, None, NEW_YORK)
    first = next_run(schedule, utc(2025, 11, 2, 0, 0))
    assert first == utc(2025, 11, 2, 5, 30)
    second = next_run(schedule, first)
    assert second.astimezone(ZoneInfo(NEW_YORK)).date() == datetime(2025, 11, 3).date()


def test_weekly_runs_on_its_weekday() -> None:
    schedule = Schedule(ScheduleKind.WEEKLY, 8 * 60 + 30, 0, BERLIN)  # Mondays 08:30
    run = next_run(schedule, utc(2026, 11, 29, 9, 0))  # a Sunday
    assert run.astimezone(ZoneInfo(BERLIN)) == local(BERLIN, 2026, 11, 30, 8, 30)
    assert next_run(schedule, run) == local(BERLIN, 2026, 12, 7, 8, 30).astimezone(UTC)


def test_next_run_is_strictly_after() -> None:
    schedule = Schedule(ScheduleKind.DAILY, 9 * 60, None, "UTC")
    assert next_run(schedule, utc(2026, 1, 1, 9, 0)) == utc(2026, 1, 2, 9, 0)
    assert next_run(schedule, utc(2026, 1, 1, 8, 59)) == utc(2026, 1, 1, 9, 0)


def test_quiet_hours_across_midnight() -> None:
    zone = ZoneInfo(BERLIN)
    start, end = parse_clock("20:00"), parse_clock("08:00")
    late = local(BERLIN, 2026, 6, 1, 22, 15)
    assert in_quiet_hours(late, start, end, zone)
    assert not in_quiet_hours(local(BERLIN, 2026, 6, 1, 12, 0), start, end, zone)
    assert quiet_hours_end(late, start, end, zone) == local(BERLIN, 2026, 6, 2, 8, 0)


@pytest.mark.parametrize("text", ["25:00", "24", "09:60", "aa:bb", "", "9:5", "noonish"])
def test_parse_clock_rejects_bad_times(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(text)


@pytest.mark.parametrize(
    ("text", "minute"),
    [
        ("09:00", 540),
        ("9am", 540),
        ("9:30pm", 21 * 60 + 30),
        ("12am", 0),
        ("12pm", 720),
        ("21h", 1260),
        ("9", 540),  # a bare hour is on the 24-hour clock
        ("21", 1260),
        ("noon", 720),
        ("midnight", 0),
    ],
)
def test_parse_clock_reads_common_forms(text: str, minute: int) -> None:
    assert parse_clock(text) == minute


@pytest.mark.parametrize("text", ["13pm", "0am", "9 o'clock"])
def test_parse_clock_rejects_impossible_forms(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(text)
