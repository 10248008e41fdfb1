"""Chinese deadline wording: 到2027年, 2025年底前, 到2030年底, 2026年6月底前, 2025年6月30日前,
2027年上半年, 今年底前, "十四五"期间 (a Five-Year Plan period, a window with its start),
"十五五"末, plan periods written as years (2025—2027年, a window), and the centenary goals
(建党一百年: 2021; 新中国成立一百年: 2049; 本世纪中叶: 2050).

As in English, a bare year (在2023年, 2025年目标) is no deadline: a trigger (到, 至, 截至)
or an end word (底, 末, 前) must say so. Not targets, though dated: base years
(比2023年下降, 较2020年底), launch dates (自2024年1月1日起施行), validity periods
(有效期至2026年底), a status at a past date (截至2023年底，已建成), and retrospectives: a plan
period or span of years that ended before the document, or whose clause reports what was
done (“十四五”期间 … 保持在, 2021—2025年累计 …).
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
    r"(?:(?P<m>1[0-2]|0?[1-9])\s?月(?:(?P<d>3[01]|[12]\d|0?[1-9])\s?[日号])?)?"
    r"(?P<end>年?底|年?末)?(?P<before>前|以前|之前)?"
)
_HALF = re.compile(r"(?P<y>(?:19|20)\d{2})\s?年(?P<h>上|下)半年")
_PLAN = re.compile(
    r"[\"“]?十(?P<n>[一二三四五六七八九])五[\"”]?(?:规划)?\s?(?P<what>期间|时期|末|结束前|收官)"
)
# 2025—2027年, 2025-2027年, 2025年至2027年, 2025~2027年: a plan's years, a window.
_SPAN = re.compile(
    r"(?<![\d比较])(?P<y1>(?:19|20)\d{2})\s?年?\s?(?:-|~|至|到)\s?(?P<y2>(?:19|20)\d{2})\s?年"
)
_CENTENARY = re.compile(
    r"(?P<trig>到|至|在)?\s?(?:(?P<party>中国共产党成立|建党)|(?P<prc>新中国成立|中华人民共和国成立))"
    r"\s?(?:一百|100)\s?(?:周)?年(?P<when>时|之时|之际|的时候)?"
)
_MID_CENTURY = re.compile(r"(?P<trig>到|至)\s?本世纪中叶")
_RELATIVE = re.compile(
    r"(?P<rel>今年|本年|当年|明年|年内)(?:年)?(?P<end>底|末)?(?P<before>前|以前|之前)?"
)
# Right before a year: a base for a comparison (比2023年, 较2020年底, 与2020年相比).
_BASE_BEFORE = re.compile(r"(?:比|较|同|与|以|相比|相较于?|对比)\s?$")
# Right after a date: the day something starts (自2024年1月1日起施行).
_START_AFTER = re.compile(r"^\s?(?:起|开始|施行|实施|执行|生效)")
_START_BEFORE = re.compile(r"(?:自|从|起)\s?$")
_VALIDITY = re.compile(r"有效期|执行期限?|实施期限?")
# A clause that reports what was done rather than what is to be done.
_RETROSPECTIVE = re.compile(
    r"累计|已经|已(?!有)|保持在|实现了|完成了|取得了|达到了|回顾|过去|以来|成效|增长了|下降了|提高了"
)
_CLAUSE_END = re.compile(r"[。；;！？!?\n]")

# (due date, precision, window start, phrase, position); precision as a plain string so
# the caller maps it onto its own enum.
Found = tuple[date, str, date | None, str, int]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _clause(text: str, at: int) -> str:
    """The clause around position `at`: from the last full stop or semicolon before it to
    the next one."""
    start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, at)), default=0)
    end = _CLAUSE_END.search(text, at)
    return text[start : end.start() if end else len(text)]


def _past(due: date, published_on: date | None) -> bool:
    return published_on is not None and due < published_on


def _year_phrases(text: str, published_on: date | None) -> Iterator[Found]:
    for m in _YEAR_PHRASE.finditer(text):
        if not (m["trig"] or m["end"] or m["before"]):
            continue
        if _BASE_BEFORE.search(text, 0, m.start()) and not m["trig"]:
            continue  # 比2023年底: the base of a comparison
        if m["d"] and not m["before"] and not m["trig"]:
            continue  # a day without 到 or 前 is when something happens, not a deadline
        if _START_AFTER.match(text, m.end()):
            continue  # 自2024年1月1日起施行: a launch date
        if m["trig"] == "至" and (
            _START_BEFORE.search(text, 0, m.start()) or _VALIDITY.search(_clause(text, m.start()))
        ):
            continue  # 有效期至2026年底, 起至: how long a rule applies
        year = int(m["y"])
        if m["d"]:
            due, precision = date(year, int(m["m"]), int(m["d"])), "day"
        elif m["m"]:
            due, precision = _month_end(year, int(m["m"])), "month"
        else:
            due, precision = date(year, 12, 31), "year"
        if m["trig"] in ("截至", "截止", "截止到") and _past(due, published_on):
            continue  # 截至2023年底，已建成: a status report
        if _past(due, published_on) and _RETROSPECTIVE.search(_clause(text, m.start())):
            continue  # 2023年底前已完成: done, not due
        yield due, precision, None, m[0], m.start()


def _spans(text: str, published_on: date | None) -> Iterator[Found]:
    for m in _SPAN.finditer(text):
        first, last = int(m["y1"]), int(m["y2"])
        if not 0 < last - first <= 30:
            continue
        due = date(last, 12, 31)
        if _BASE_BEFORE.search(text, 0, m.start()) or _past(due, published_on):
            continue
        if _RETROSPECTIVE.search(_clause(text, m.start())):
            continue
        yield due, "window", date(first, 1, 1), m[0], m.start()


def _centenaries(text: str) -> Iterator[Found]:
    for m in _CENTENARY.finditer(text):
        if not (m["trig"] or m["when"]):
            continue  # 庆祝建党一百周年: an anniversary, not a goal
        year = 2021 if m["party"] else 2049
        yield date(year, 12, 31), "year", None, m[0], m.start()
    for m in _MID_CENTURY.finditer(text):
        yield date(2050, 12, 31), "year", None, m[0], m.start()


def _relative(text: str, published_on: date | None) -> Iterator[Found]:
    if published_on is None:
        return
    for m in _RELATIVE.finditer(text):
        rel = m["rel"]
        if rel != "年内" and not (m["end"] or m["before"]):
            continue  # 今年 alone names a year of data, 今年底前 a deadline
        year = published_on.year + (1 if rel == "明年" else 0)
        yield date(year, 12, 31), "year", None, m[0], m.start()


def chinese_deadlines(text: str, published_on: date | None) -> Iterator[Found]:
    if "年" not in text and "五" not in text and "世纪" not in text:
        return  # no Chinese date or plan at all (most English goals): skip the scans
    spans = list(_spans(text, published_on))
    # A year inside a span (the 2027年 of 2025年至2027年) is the span's end, not a target
    # of its own; neither is the year of a span reported as done.
    covered = [(m.start(), m.end()) for m in _SPAN.finditer(text)]
    for found in _year_phrases(text, published_on):
        if not any(start <= found[4] < end for start, end in covered):
            yield found
    yield from spans
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
        due = date(last, 12, 31)
        if m["what"] in ("期间", "时期"):
            if _past(due, published_on) or _RETROSPECTIVE.search(_clause(text, m.start())):
                continue  # “十四五”期间 … 保持在: what the plan period achieved
            yield due, "window", date(first, 1, 1), m[0], m.start()
        else:
            yield due, "year", None, m[0], m.start()
    yield from _centenaries(text)
    yield from _relative(text, published_on)
