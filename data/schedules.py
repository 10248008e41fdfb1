"""Wall-clock schedules in a channel's time zone, with deliberate DST rules.

- A local time that does not exist (the spring-forward gap) fires at the moment the clocks
  jump, i.e. as soon as that day's local clock passes the requested time.
- A local time that happens twice (fall back) fires once, at its first occurrence.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import ScheduleKind, Subscription


@dataclass(frozen=True)
class Schedule:
    kind: ScheduleKind
    at_minute: int = 9 * 60  # minutes after local midnight
    weekday: int | None = None  # Monday = 0, for weekly
    timezone: str = "UTC"
    month_day: int | None = None  # 1-31, for monthly (past a month's end: its last day)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def schedule_of(subscription: Subscription) -> Schedule:
    return Schedule(
        ScheduleKind(subscription.schedule),
        subscription.at_minute,
        subscription.weekday,
        subscription.timezone,
        subscription.month_day,
    )


def local_instant(day: date, minute_of_day: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time on a day, by the rules above."""
    wall = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60))
    first = wall.replace(tzinfo=zone, fold=0)
    roundtrip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if roundtrip == wall:
        return first.astimezone(UTC)  # exists (fold=0 is the first of two, if repeated)
    # In the gap: find the transition instant between the two readings of `wall`.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first.astimezone(UTC)
    low, high = min(low, high), max(low, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) < wall:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0) if high.microsecond else high


def next_run(schedule: Schedule, after: datetime) -> datetime:
    """The first scheduled instant strictly after `after` (UTC)."""
    if schedule.kind is ScheduleKind.INSTANT:
        return after
    zone = schedule.zone
    day = after.astimezone(zone).date() - timedelta(days=1)
    for _ in range(64):  # two months and a day: every cadence fires in that span
        if runs_on(schedule, day):
            candidate = local_instant(day, schedule.at_minute, zone)
            if candidate > after:
                return candidate
        day += timedelta(days=1)
    raise ValueError(f"no run found for {schedule}")  # pragma: no cover - every cadence hits


def runs_on(schedule: Schedule, day: date) -> bool:
    """Whether the schedule fires on this local calendar day."""
    if schedule.kind is ScheduleKind.DAILY:
        return True
    if schedule.kind is ScheduleKind.WEEKDAYS:
        return day.weekday() < 5
    if schedule.kind is ScheduleKind.WEEKLY:
        return day.weekday() == schedule.weekday
    if schedule.kind is ScheduleKind.MONTHLY:
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(schedule.month_day or 1, last)
    return False


def in_quiet_hours(moment: datetime, start: int, end: int, zone: ZoneInfo) -> bool:
    local = moment.astimezone(zone)
    minute = local.hour * 60 + local.minute
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end  # spans midnight, e.g. 20:00-08:00


def quiet_hours_end(moment: datetime, start: int, end: int, zone: ZoneInfo) -> datetime:
    """When quiet hours that include `moment` end (UTC)."""
    local_day = moment.astimezone(zone).date()
    for offset in (0, 1):
        candidate = local_instant(local_day + timedelta(days=offset), end, zone)
        if candidate > moment:
            return candidate
    return moment  # pragma: no cover


_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h)?$", re.I)


_NAMED_TIMES = {"noon": 12 * 60, "midday": 12 * 60, "midnight": 0}


def parse_clock(text: str) -> int:
    """ "09:00", "9", "9am", "9:30pm", "21h", "noon" -> minutes after midnight; ValueError
    otherwise. A bare hour is on the 24-hour clock ("at 9" is 09:00, "at 21" is 21:00)."""
    named = _NAMED_TIMES.get(text.strip().lower())
    if named is not None:
        return named
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(text)
    h, m = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").lower().replace(".", "")
    if suffix in ("am", "pm"):
        if not 1 <= h <= 12:
            raise ValueError(text)
        h = h % 12 + (12 if suffix == "pm" else 0)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(text)
    return h * 60 + m


def format_clock(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"
