"""How often a subscription delivers: the cadence words of `/policy subscribe`.

    instant | daily | weekdays | weekly <day> | every <day> | <day>s | monthly [on the 15th]

Strict on purpose: a word that looks like a schedule but is not one we deliver on
("twice a day", "hourly", "every other week", a lone "monday" or "9am") is a UserError that
says what is understood, so it is never silently searched for and nothing is saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..data.errors import UserError
from ..data.models import ScheduleKind

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CADENCES_HELP = (
    "I deliver `instant`, `daily`, `weekdays`, `weekly monday` (or `every monday`), or "
    "`monthly` (on the 1st; `monthly on the 15th`), at a time you pick with `at 09:00`."
)
_INSTANT = {"instant", "instantly", "immediately", "realtime", "real-time"}
_EVERY = {"every", "each"}
# Schedule words we do not deliver on: said so instead of searched for.
_UNSUPPORTED = {
    "hourly",
    "twice",
    "thrice",
    "biweekly",
    "bi-weekly",
    "fortnightly",
    "bimonthly",
    "bi-monthly",
    "semimonthly",
    "quarterly",
    "annually",
    "yearly",
    "nightly",
    "weekends",
    "weekend",
    "once",
    "tomorrow",
    "tonight",
}
_TIME_LIKE = re.compile(r"^\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.|h)$|^\d{1,2}:\d{2}$", re.I)
_MONTH_DAY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$", re.I)


@dataclass(frozen=True)
class Cadence:
    kind: ScheduleKind
    weekday: int | None = None
    month_day: int | None = None


def weekday_named(word: str) -> int | None:
    """`monday`, `mon`, `mondays`, `Mon.` -> 0."""
    word = word.lower().rstrip(",.")
    if word.endswith("s") and word[:-1] in WEEKDAYS:
        word = word[:-1]
    for index, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.startswith(word):
            return index
    return None


def _plain(word: str) -> str:
    return word.lower().strip(",.;")


def take_cadence(words: list[str]) -> tuple[list[str], Cadence | None]:
    """Pull the cadence out of command words; returns the other words and the cadence (None
    when none was named). Raises UserError for schedule-like words it cannot honour."""
    rest: list[str] = []
    found: list[tuple[str, Cadence]] = []
    i = 0
    while i < len(words):
        word = _plain(words[i])
        following = _plain(words[i + 1]) if i + 1 < len(words) else ""
        taken = 1
        cadence: Cadence | None = None
        if word in _INSTANT:
            cadence = Cadence(ScheduleKind.INSTANT)
        elif word == "daily":
            cadence = Cadence(ScheduleKind.DAILY)
        elif word in ("weekdays", "workdays"):
            cadence = Cadence(ScheduleKind.WEEKDAYS)
        elif word == "weekly":
            if following in ("on", "every") and i + 2 < len(words):  # "weekly on friday"
                taken_filler = 1
                following = _plain(words[i + 2])
            else:
                taken_filler = 0
            day = weekday_named(following) if following else None
            if day is None:
                raise UserError(
                    "`weekly` needs a day, for example `weekly monday` or `every friday`."
                )
            cadence, taken = Cadence(ScheduleKind.WEEKLY, weekday=day), 2 + taken_filler
        elif word == "monthly":
            day, taken = _month_day(words, i + 1)
            cadence = Cadence(ScheduleKind.MONTHLY, month_day=day)
        elif word in _EVERY:
            cadence, taken = _every(word, following, words, i)
        elif word.endswith("s") and weekday_named(word) is not None and len(word) > 4:
            cadence = Cadence(ScheduleKind.WEEKLY, weekday=weekday_named(word))  # "mondays"
        elif word in _UNSUPPORTED:
            raise UserError(f"I can't deliver `{_phrase(words, i)}`. {CADENCES_HELP}")
        elif word in WEEKDAYS:  # a full day name ("sun" or "wed" may well be search words)
            raise UserError(
                f"Did you mean `weekly {word}`? A day on its own is not a schedule. {CADENCES_HELP}"
            )
        elif _TIME_LIKE.match(word):
            raise UserError(f"Did you mean `at {words[i]}`? Times follow `at`, like `at 09:00`.")
        if cadence is None:
            rest.append(words[i])
        else:
            found.append((" ".join(words[i : i + taken]), cadence))
        i += taken
    if len({c for _, c in found}) > 1:
        named = " and ".join(f"`{text}`" for text, _ in found)
        raise UserError(f"Pick one schedule: you wrote {named}. {CADENCES_HELP}")
    return rest, (found[0][1] if found else None)


def _every(word: str, following: str, words: list[str], i: int) -> tuple[Cadence, int]:
    if following in ("day", "morning"):
        return Cadence(ScheduleKind.DAILY), 2
    if following in ("weekday", "workday"):
        return Cadence(ScheduleKind.WEEKDAYS), 2
    if following == "month":
        month_day, taken = _month_day(words, i + 2)
        return Cadence(ScheduleKind.MONTHLY, month_day=month_day), 1 + taken
    weekday = weekday_named(following) if following else None
    if weekday is not None:
        return Cadence(ScheduleKind.WEEKLY, weekday=weekday), 2
    if following == "week":
        raise UserError("`every week` needs a day: write `every monday` or `weekly friday`.")
    raise UserError(f"I can't deliver `{_phrase(words, i)}`. {CADENCES_HELP}")


def _month_day(words: list[str], start: int) -> tuple[int, int]:
    """`[on] [the] 15th` after `monthly` -> (15, words taken including `monthly`); day 1
    when none follows."""
    j = start
    while j < len(words) and _plain(words[j]) in ("on", "the"):
        j += 1
    if j < len(words):
        value = _plain(words[j])
        if value in ("last", "end"):  # "monthly on the last day" takes "day" too
            day_word = j + 1 < len(words) and _plain(words[j + 1]) == "day"
            return 31, j - start + 2 + day_word
        if value == "first":
            return 1, j - start + 2
        if match := _MONTH_DAY.match(value):
            day = int(match.group(1))
            if not 1 <= day <= 31:
                raise UserError(f"`monthly on the {value}`: a day of the month is 1 to 31.")
            return day, j - start + 2
    if j > start:  # "monthly on" with no day
        raise UserError("Which day of the month? `monthly on the 15th`, or `monthly` for the 1st.")
    return 1, 1


def _phrase(words: list[str], i: int) -> str:
    return " ".join(words[i : i + 3])[:40]


def describe_cadence(kind: ScheduleKind | str, weekday: int | None, month_day: int | None) -> str:
    kind = ScheduleKind(kind)
    if kind is ScheduleKind.INSTANT:
        return "instantly"
    if kind is ScheduleKind.WEEKLY and weekday is not None:
        return f"weekly on {WEEKDAYS[weekday].title()}"
    if kind is ScheduleKind.WEEKDAYS:
        return "on weekdays"
    if kind is ScheduleKind.MONTHLY:
        day = month_day or 1
        if day >= 29:
            return (
                "monthly on the last day"
                if day == 31
                else f"monthly on the {_ordinal(day)} (or the month's last day)"
            )
        return f"monthly on the {_ordinal(day)}"
    return "daily"


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"
