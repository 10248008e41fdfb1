"""Target deadlines in goal sentences: "By 2027, ...", "by Q3 2026", "over the next five years".

Only explicit deadline wording counts. Base and data years ("compared with 2020 levels",
"in 2023", "since 2015", "the 2025 goal", "starting in 2028") are never read as deadlines,
because a brief cites far more past years than target years.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .deadlines_zh import chinese_deadlines
from .plans import plan_years

__all__ = ["Deadline", "Precision", "extract_deadline", "lead_in_year", "target_steps"]


class Precision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    WINDOW = "window"


@dataclass(frozen=True)
class Deadline:
    due_on: date  # the last day by which the target should be met
    precision: Precision
    window_start: date | None = None  # only for WINDOW
    phrase: str = ""  # the matched words, e.g. "By 2027" (for display/debug)


# A period is (first day, last day, precision, whether its own words say "end").
_Period = tuple[date, date, Precision, bool]
_UNRESOLVED = "unresolved"  # a relative phrase with no publication date to count from

_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
           "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}  # fmt: skip
_NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                 "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                 "eighteen", "nineteen", "twenty"]  # fmt: skip
_ORDINAL_WORDS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                  "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth",
                  "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
                  "twentieth"]  # fmt: skip
_NUMBERS = {w: i for i, w in enumerate(_NUMBER_WORDS, 1)} | {"a": 1, "an": 1}
_ORDINALS = {w: i for i, w in enumerate(_ORDINAL_WORDS, 1)} | {"final": 4, "last": 4}

# Text is normalised to single spaces first, so patterns use " " and " ?" only: no two
# unbounded quantifiers ever touch, which keeps every search linear in the input length.
_Y_CORE = r"(?<![0-9])(?P<y>199[0-9]|20[0-9]{2}|2100)"
# A year followed by a unit, a decimal or a base-year noun is a quantity or a reference.
_YEAR = _Y_CORE + (
    r"(?![0-9A-Za-z]|\.[0-9]|,[0-9]{3}\b|[-/][0-9]| ?%| ?per ?cent\b"
    r"| (?:levels?|baselines?|base year|figures?|prices|values?|goals?|targets?|data)\b)"
)
_TRIG = r"\b(?P<trig>by|until|till|through|thru|(?:no|not) later than|before|prior to)\b"
_ENDOF = (
    r"(?P<endof>(?:the )?(?:end|close)\b ?(?:- ?|of (?:the )?)?"
    r"|(?:the )?year ?-? ?end\b ?(?:of )?)"
)
_PREFIX = _TRIG + r" ?(?:" + _ENDOF + r" ?)?"
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_SEP_Y = r"(?: ?, ?| of (?:the year )?| ?- ?| )"
_FYP = (
    r"(?:the )?(?P<n>[0-9]{1,2}(?:st|nd|rd|th)|" + "|".join(_ORDINAL_WORDS[::-1]) + r")"
    r" ?(?:five ?-? ?years? ?-? ?plan|fyp)\b(?: \(?period\)?)?"
)
_NUM = r"(?:[0-9]{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")\b"
_WINDOW = re.compile(
    r"\b(?P<lead>(?:over|in|during|throughout)(?: the course of)? (?:the )?"
    r"(?:next|coming|upcoming)|within(?: the course of)?(?: the)?(?: (?:next|coming|upcoming))?) "
    r"(?:(?P<n1>" + _NUM + r")(?:(?: ?-? ?(?:to|or) ?-? ?| ?- ?)(?P<n2>" + _NUM + r"))? )?"
    r"(?P<unit>years?|months?|decades?)\b(?! ?-? ?plan)",
    re.IGNORECASE,
)
_LEAD_KW = (
    r"\b(?:goals?|targets?|objectives?|aims?|tasks?|milestones?|indicators?|priorities|plans?)"
    r"\b[^.:;!?]{0,60}?\b(?:for|by|until|through|to|during) (?:the )?(?:(?:calendar )?year )?"
)
_LEAD_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        _LEAD_KW + _Y_CORE + r" ?(?:-|to) ?(?P<y2>199[0-9]|20[0-9]{2}|2100)(?![0-9])",
        _LEAD_KW + _YEAR,
        _LEAD_KW + _FYP,
        _Y_CORE + r"(?![0-9]) (?:goals?|targets?|objectives?|milestones?)\b",
    )
]
_RANK = {Precision.DAY: 0, Precision.MONTH: 1, Precision.YEAR: 2, Precision.WINDOW: 3}
_JUNK = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
_TRANSLATE = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"',
     "\u201d": '"', "\u201e": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
     "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u00ad": None, "\u200b": None,
     "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None}
)  # fmt: skip


def _normalise(text: str) -> str:
    # NFKC folds full-width digits and ligatures from CJK-typeset PDFs; soft hyphens and
    # zero-width characters are line-wrap debris.
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    return _JUNK.sub(" ", text).strip()


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _year(y: int) -> _Period:
    return date(y, 1, 1), date(y, 12, 31), Precision.YEAR, False


def _add_months(day: date, months: int) -> date:
    # Clamp the day so Feb 29 + 1 year is Feb 28, and Jan 31 + 1 month is Feb 28/29.
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _p_year(m: re.Match[str], _pub: date | None) -> _Period | str | None:
    start, end, precision, _ = _year(int(m["y"]))
    return start, end, precision, bool(m["yend"])


def _p_relative(m: re.Match[str], pub: date | None) -> _Period | str | None:
    rel = m["rel"].lower()
    qualified = any(w in rel for w in ("this", "current", "next", "coming", "end"))
    if not qualified and not m["endof"]:
        return None  # "by the year" alone names no year
    if pub is None:
        return _UNRESOLVED
    start, end, precision, _ = _year(pub.year + (1 if "next" in rel or "coming" in rel else 0))
    return start, end, precision, "end" in rel


def _p_month(m: re.Match[str], _pub: date | None) -> _Period | str | None:
    y, mon = int(m["y"]), _MONTHS[m["mon"][:3].lower()]
    return date(y, mon, 1), _month_end(y, mon), Precision.MONTH, False


def _p_day(m: re.Match[str], _pub: date | None) -> _Period | str | None:
    month = int(m["mm"]) if "mm" in m.re.groupindex else _MONTHS[m["mon"][:3].lower()]
    day = date(int(m["y"]), month, int(m["d"]))
    return day, day, Precision.DAY, False


def _p_quarter(m: re.Match[str], _pub: date | None) -> _Period | str | None:
    word = (m["qw"] or "").lower()
    digit = m["q"] or m["q2"] or (word[:1] if word[:1].isdigit() else "")
    q = int(digit) if digit else _ORDINALS[word]
    y = int(m["y"])
    return date(y, 3 * q - 2, 1), _month_end(y, 3 * q), Precision.MONTH, False


def _p_half(m: re.Match[str], _pub: date | None) -> _Period | str | None:
    digit = m["h"] or m["h2"] or (m["hw"] or "")[:1]
    h = int(digit) if digit.isdigit() else (1 if m["hw"].lower() == "first" else 2)
    y = int(m["y"])
    return date(y, 6 * h - 5, 1), _month_end(y, 6 * h), Precision.MONTH, False


def _p_part(m: re.Match[str], _pub: date | None) -> _Period | str | None:
    y, part = int(m["y"]), m["part"].lower()
    if part == "early":
        return date(y, 1, 1), date(y, 3, 31), Precision.MONTH, False
    if part == "late":
        return date(y, 10, 1), date(y, 12, 31), Precision.MONTH, False
    # Mid-year is a boundary, not a span: "by" and "before" it both mean June 30.
    return date(y, 7, 1), date(y, 6, 30), Precision.MONTH, False


def _p_plan(m: re.Match[str], _pub: date | None) -> _Period | str | None:
    raw = m["n"].lower()
    years = plan_years(int(raw[:-2]) if raw[0].isdigit() else _ORDINALS[raw])
    if years is None:
        return None
    return date(years[0], 1, 1), date(years[1], 12, 31), Precision.YEAR, False


def _p_plan_window(m: re.Match[str], pub: date | None) -> _Period | str | None:
    """ "During the 15th Five-Year Plan period": the plan's years, a window with a start."""
    period = _p_plan(m, pub)
    if not isinstance(period, tuple):
        return period
    return period[0], period[1], Precision.WINDOW, False


def _ahead(period: _Period | str | None, pub: date | None) -> _Period | str | None:
    """ "In the first half of 2027", "in Q3 2026": a target period only when it lies
    ahead of the brief (a past one reports data: "in the first half of 2023, ...")."""
    if isinstance(period, tuple) and pub is not None and period[1] < pub:
        return None
    return period


def _p_half_ahead(m: re.Match[str], pub: date | None) -> _Period | str | None:
    return _ahead(_p_half(m, pub), pub)


def _p_quarter_ahead(m: re.Match[str], pub: date | None) -> _Period | str | None:
    return _ahead(_p_quarter(m, pub), pub)


_Handler = Callable[[re.Match[str], date | None], "_Period | str | None"]
_PATTERNS: list[tuple[re.Pattern[str], _Handler]] = [
    (re.compile(p, re.IGNORECASE), h)
    for p, h in (
        (_PREFIX + r"(?:(?:the )?(?:calendar )?year )?" + _YEAR + r"(?P<yend> ?-? ?end\b)?",
         _p_year),
        (_PREFIX + r"(?P<rel>(?:the )?(?:this|current|next|coming) year(?:'s end| ?-? ?end\b)?"
         r"|(?:the )?year ?-? ?end\b|(?:the )?year)(?![0-9A-Za-z'-]| ?-? ?[0-9])", _p_relative),
        (_PREFIX + r"(?:(?:early|mid|late) ?-? ?)?" + _MON + _SEP_Y + _YEAR, _p_month),
        (_PREFIX + _MON + r" ?(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?\b(?: ?, ?| )" + _YEAR, _p_day),
        (_PREFIX + r"(?:the )?(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?(?: of)? " + _MON + r"(?: ?, ?| )"
         + _YEAR, _p_day),
        (_PREFIX + _Y_CORE + r"(?P<sep>[-/.])(?P<mm>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?![0-9])",
         _p_day),
        (_PREFIX + r"(?:q ?(?P<q>[1-4])|(?P<q2>[1-4]) ?q|(?:the )?(?P<qw>first|second|third"
         r"|fourth|final|last|1st|2nd|3rd|4th) quarter)\b" + _SEP_Y + _YEAR, _p_quarter),
        (_PREFIX + r"(?:h ?(?P<h>[12])|(?P<h2>[12]) ?h|(?:the )?(?P<hw>first|second|1st|2nd) half)"
         r"\b" + _SEP_Y + _YEAR, _p_half),
        (_PREFIX + r"(?P<part>mid|early|late|the middle of)(?: ?- ?| )(?:(?:the )?year )?" + _YEAR,
         _p_part),
        (_PREFIX + _FYP, _p_plan),
        (r"\b(?P<trig>during|within|over|throughout|in the course of) " + _FYP, _p_plan_window),
        (r"\b(?P<trig>in|during|within|over|throughout) (?:the )?(?:(?P<hw>first|second|1st|2nd)"
         r" half|h ?(?P<h>[12])|(?P<h2>[12]) ?h)\b" + _SEP_Y + _YEAR, _p_half_ahead),
        (r"\b(?P<trig>in|during|within) (?:q ?(?P<q>[1-4])|(?P<q2>[1-4]) ?q|(?:the )?(?P<qw>first"
         r"|second|third|fourth|final|last|1st|2nd|3rd|4th) quarter)\b" + _SEP_Y + _YEAR,
         _p_quarter_ahead),
    )
]  # fmt: skip


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


def _window(m: re.Match[str], pub: date | None) -> Deadline | str | None:
    unit, lead = m["unit"].lower(), m["lead"].lower()
    first = _count(m["n1"]) if m["n1"] else None
    second = _count(m["n2"]) if m["n2"] else None
    if first is None:
        # "within the next year" is one year; "within the year" and "in the next years" aren't.
        if unit.endswith("s") or not any(w in lead for w in ("next", "coming")):
            return None
        first = 1
    if first > 1 and second is None and not unit.endswith("s"):
        return None  # "the next five year plan" is a plan, not a window
    months = 12 if unit.startswith("year") else 120 if unit.startswith("decade") else 1
    low, high = (0, first) if second is None else sorted((first, second))
    if not 0 < high * months <= 1200:
        return None
    if pub is None:
        return _UNRESOLVED
    start = _add_months(pub, low * months)
    return Deadline(_add_months(pub, high * months), Precision.WINDOW, start, m[0].strip())


# (due, rank, start, end, deadline): one deadline phrase found in a text.
_Found = tuple[date, int, int, int, Deadline]


def _find_all(clean: str, published_on: date | None) -> tuple[list[_Found], bool]:
    """Every deadline phrase in normalised text, and whether a relative phrase was left
    undated (no publication date to count from)."""
    found: list[_Found] = []
    unresolved = False
    for pattern, handler in _PATTERNS:
        for m in pattern.finditer(clean):
            try:
                period = handler(m, published_on)
                if period == _UNRESOLVED:
                    unresolved = True
                if not isinstance(period, tuple):
                    continue
                start, end, precision, says_end = period
                # "before 2030" excludes 2030; "before the end of 2030" includes it.
                exclusive = m["trig"].lower() in ("before", "prior to")
                if exclusive and not says_end and not m.groupdict().get("endof"):
                    end = start - timedelta(days=1)
                window_start = start if precision is Precision.WINDOW else None
                deadline = Deadline(end, precision, window_start, phrase=m[0].strip())
            except (ValueError, OverflowError, KeyError):
                continue
            found.append((end, _RANK[precision], m.start(), m.end(), deadline))
    for m in _WINDOW.finditer(clean):
        try:
            window = _window(m, published_on)
        except (ValueError, OverflowError, KeyError):
            continue
        unresolved = unresolved or window == _UNRESOLVED
        if isinstance(window, Deadline):
            found.append((window.due_on, _RANK[window.precision], m.start(), m.end(), window))
    for zh_due, zh_precision, zh_start, zh_phrase, zh_at in chinese_deadlines(clean, published_on):
        zh = Deadline(zh_due, Precision(zh_precision), zh_start, zh_phrase)
        found.append((zh_due, _RANK[zh.precision], zh_at, zh_at + len(zh_phrase), zh))
    return found, unresolved


def extract_deadline(
    text: str, *, published_on: date | None = None, default_year: int | None = None
) -> Deadline | None:
    """The deadline a careful policy analyst would read from one goal sentence.

    default_year: a target year stated in the goals list's lead-in ("Important goals for
    2027 include:"), applied when the text states no deadline of its own.
    published_on: the brief's date; windows ("over the next five to ten years") are counted
    from it; relative phrases ("by the end of next year") need it. When it is None, relative
    phrases yield None.
    """
    if not isinstance(text, str):
        return None
    found, unresolved = _find_all(_normalise(text), published_on)
    if found:
        return min(found, key=lambda item: item[:3])[4]  # several targets: the earliest
    # A relative deadline we cannot date is still the sentence's own; the lead-in's year
    # would contradict it.
    if unresolved or not isinstance(default_year, int) or not 1 <= default_year <= 9999:
        return None
    return Deadline(date(default_year, 12, 31), Precision.YEAR, phrase=f"goals for {default_year}")


# Where one step of a plan ends and the next begins: "；到2035年", ", and by 2035".
_STEP_BREAK = re.compile(r"[;；,，、:：]\s?(?:(?:and|while|with|then|and then)\s)?|。\s?")


def _normalise_mapped(text: str) -> tuple[str, list[int]]:
    """_normalise, and for each character of its result where it came from in `text`, so
    that a step cut in the normalised text is cut in the original words."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char).translate(_TRANSLATE)
        for piece in folded:
            if _JUNK.fullmatch(piece):
                if out and out[-1] != " ":
                    out.append(" ")
                    origin.append(index)
                continue
            out.append(piece)
            origin.append(index)
    while out and out[-1] == " ":
        out.pop()
        origin.pop()
    return "".join(out), origin


def target_steps(text: str, *, published_on: date | None = None) -> list[tuple[str, Deadline]]:
    """Each target of a sentence that lists a plan's steps, with its own deadline and its
    own words: "到2025年，……；到2035年，……" -> the 2025 step and the 2035 step. A sentence
    with one deadline (or several within one clause) is one step, as extract_deadline
    reads it.
    """
    if not isinstance(text, str):
        return []
    clean, origin = _normalise_mapped(text)
    found, _ = _find_all(clean, published_on)
    if not found:
        return []
    # One phrase per place: overlapping matches are one phrase (the sharpest reading).
    phrases: list[_Found] = []
    for item in sorted(found, key=lambda f: (f[2], f[1], -f[3])):
        if phrases and item[2] < phrases[-1][3]:
            continue
        phrases.append(item)
    # (where a step's words end, where the next step's begin)
    cuts: list[tuple[int, int]] = []
    for previous, current in zip(phrases, phrases[1:], strict=False):
        breaks = list(_STEP_BREAK.finditer(clean, previous[3], current[2]))
        if breaks:
            cuts.append((breaks[-1].start(), breaks[-1].end()))
    if not cuts:
        deadline = extract_deadline(text, published_on=published_on)
        return [(text.strip(), deadline)] if deadline is not None else []
    bounds = [0, *(c for cut in cuts for c in cut), len(clean)]
    steps: list[tuple[str, Deadline]] = []
    for start, end in zip(bounds[::2], bounds[1::2], strict=True):
        in_piece = [f for f in phrases if start <= f[2] < end]
        first = origin[start] if start < len(origin) else len(text)
        last = origin[end - 1] + 1 if end > start else first
        piece = text[first:last].strip()
        if piece and in_piece:
            steps.append((piece, min(in_piece, key=lambda item: item[:3])[4]))
    return steps


def lead_in_year(lead_in: str) -> int | None:
    """The target year of a goals-list lead-in.

    "Important goals for 2027 include:" -> 2027; "Key goals include:" -> None;
    "Targets by 2030 include" -> 2030;
    "The document outlines eight priority areas, including:" -> None.
    """
    if not isinstance(lead_in, str):
        return None
    explicit = extract_deadline(lead_in)
    if explicit is not None:
        return explicit.due_on.year
    clean = _normalise(lead_in)
    for pattern in _LEAD_PATTERNS:
        m = pattern.search(clean)
        if m is None:
            continue
        if "n" in pattern.groupindex:
            plan = _p_plan(m, None)
            return plan[1].year if isinstance(plan, tuple) else None
        return int(m["y2"] if "y2" in pattern.groupindex else m["y"])
    return None
