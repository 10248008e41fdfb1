"""Dates as trackers write them: "October 30, 2024", "30 Oct 2024", "2024-10-30", "30.10.2024",
"30/10/2024", "November 07"."""

from __future__ import annotations

import re
from datetime import date

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"

_FULL_DATE = [
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(r"\b(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})\b"),
    re.compile(r"\b(?P<year>\d{4})年(?P<month>\d{1,2})月(?P<day>\d{1,2})日"),
    # European day-first with dots ("30.10.2024"); slashes and dashes: see _NUMERIC.
    re.compile(r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})\b"),
]
# "30/10/2024" (day first) and "10/30/2024" (month first) read alike where only one order
# makes a date; "10/11/2024" could be either, and is not guessed (ambiguous_date names it).
_NUMERIC = re.compile(
    r"\b(?P<first>\d{1,2})(?P<sep>[/-])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4})\b"
)
_MONTH_YEAR = re.compile(r"\b" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.I)

# " October 29: The State Administration ...", "29 October: ...", "2024-11-07: ..." and
# "2024年11月7日：..." open a news item.
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
NEWS_PREFIX = re.compile(
    r"^(?:" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?"
    r"|(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month2>" + _MONTH_NAMES + r")\.?)"
    r"(?:,?\s+(?P<year>\d{4}))?\s*[:\u2013\u2014-]\s*"
    r"|^(?P<iso_year>\d{4})-(?P<iso_month>\d{1,2})-(?P<iso_day>\d{1,2})\s*(?:[:\u2013\u2014]|-\s)\s*"
    r"|^(?P<cjk_year>\d{4})年(?P<cjk_month>\d{1,2})月(?P<cjk_day>\d{1,2})日\s*[:\uff1a]?\s*",
    re.I,
)


def news_date_parts(match: re.Match[str]) -> tuple[int, int, int | None]:
    """(month, day, year or None) of a NEWS_PREFIX match."""
    for prefix in ("iso", "cjk"):
        if match[f"{prefix}_year"]:
            return (
                int(match[f"{prefix}_month"]),
                int(match[f"{prefix}_day"]),
                int(match[f"{prefix}_year"]),
            )
    month_name = match["month"] or match["month2"]
    year = int(match["year"]) if match["year"] else None
    return MONTHS[month_name.lower().rstrip(".")], int(match["day"] or match["day2"]), year


def _month_number(value: str) -> int:
    return int(value) if value.isdigit() else MONTHS[value.lower().rstrip(".")]


def parse_date(text: str) -> date | None:
    """The first full date in text; a month and year alone give the first of that month."""
    for pattern in _FULL_DATE:
        match = pattern.search(text)
        if match:
            try:
                return date(int(match["year"]), _month_number(match["month"]), int(match["day"]))
            except ValueError:
                continue
    for match in _NUMERIC.finditer(text):
        readings = _numeric_readings(match)
        if len(readings) == 1:
            return readings[0]
    match = _MONTH_YEAR.search(text)
    if match:
        return date(int(match["year"]), _month_number(match["month"]), 1)
    return None


def ambiguous_date(text: str) -> tuple[str, date, date] | None:
    """A numeric date parse_date leaves unread because it reads both ways: ("10/11/2024",
    10 November, 11 October)."""
    for match in _NUMERIC.finditer(text):
        readings = _numeric_readings(match)
        if len(readings) == 2:
            return match[0], readings[0], readings[1]
    return None


def _numeric_readings(match: re.Match[str]) -> list[date]:
    """The dates a day/month or month/day match can be, day first first."""
    first, second, year = int(match["first"]), int(match["second"]), int(match["year"])
    readings: list[date] = []
    for day, month in ((first, second), (second, first)):
        try:
            reading = date(year, month, day)
        except ValueError:
            continue
        if reading not in readings:
            readings.append(reading)
    return readings


def infer_year(month: int, reference: date, day: int = 1) -> int:
    """The year of a month/day written without one in an issue dated `reference`: the one
    that puts it nearest the issue. Trackers report the weeks around publication, so
    December items in a January issue belong to the year before, and a December issue's
    "January 13" (an announced date) to the year after."""

    def distance(year: int) -> int:
        try:
            return abs((date(year, month, min(day, 28)) - reference).days)
        except ValueError:
            return 10**6

    return min((reference.year, reference.year - 1, reference.year + 1), key=distance)
