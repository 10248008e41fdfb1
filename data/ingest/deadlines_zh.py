"""Chinese deadline wording: 到2027年, 2025年底前, 到2030年底, 2026年6月底前, 2027年上半年,
"十四五"期间 (a Five-Year Plan period, a window with its start), "十五五"末.

As in English, a bare year (在2023年, 2025年目标) is no deadline: a trigger (到, 至, 截至)
or an end word (底, 末, 前) must say so.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date

from .plans import plan_years

_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九", 1)}
_YEAR_PHRASE = re.compile(
    r"(?P<trig>到|至|截至|截止到?|不晚于)?\s?(?P<y>(?:19|20)\d{2})\s?年"
    r"(?:(?P<m>1[0-2]|0?[1-9])\s?月)?(?P<end>年?底|年?末)?(?P<before>前|以前|之前)?"
)
_HALF = re.compile(r"(?P<y>(?:19|20)\d{2})\s?年(?P<h>上|下)半年")
_PLAN = re.compile(
    r"[\"“]?十(?P<n>[一二三四五六七八九])五[\"”]?(?:规划)?\s?(?P<what>期间|时期|末|结束前|收官)"
)

# (due date, precision, window start, phrase, position); precision as a plain string so
# the caller maps it onto its own enum.
Found = tuple[date, str, date | None, str, int]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def chinese_deadlines(text: str, published_on: date | None) -> Iterator[Found]:
    if "年" not in text and "五" not in text:
        return  # no Chinese date or plan at all (most English goals): skip the scans
    for m in _YEAR_PHRASE.finditer(text):
        if not (m["trig"] or m["end"] or m["before"]):
            continue
        year = int(m["y"])
        if m["m"]:
            yield _month_end(year, int(m["m"])), "month", None, m[0], m.start()
        else:
            yield date(year, 12, 31), "year", None, m[0], m.start()
    for m in _HALF.finditer(text):
        year = int(m["y"])
        due = date(year, 6, 30) if m["h"] == "上" else date(year, 12, 31)
        if published_on is None or due >= published_on:
            yield due, "month", None, m[0], m.start()
    for m in _PLAN.finditer(text):
        years = plan_years(10 + _NUMERALS[m["n"]])
        if years is None:
            continue
        first, last = years
        if m["what"] in ("期间", "时期"):
            yield date(last, 12, 31), "window", date(first, 1, 1), m[0], m.start()
        else:
            yield date(last, 12, 31), "year", None, m[0], m.start()
