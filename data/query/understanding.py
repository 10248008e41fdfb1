"""Plain questions -> filters: "what did NDRC publish", "targets for 2027", "since October".

Known issuing bodies in the words become `body:` filters; time phrases become a deadline
filter ("due next year", "targets for 2027" -> `due:YEAR`; "by 2030" -> `due:..2030`, due
from today to the end of 2030) or a publication-date filter ("last month", "since October",
"November 2024", "published in 2024" -> `since:`/`until:`). Question words ("what did ...
publish") and, once something was understood, function words around it ("the", "from") and
the deadline nouns a deadline filter already says ("targets", "goals") are dropped when
something else remains. Any other word stays a search word. The caller says how the query
was read (`Reading.notes`).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from policybot.data.query.compiler import BodyNames
from policybot.data.query.language import Query
from policybot.data.search.analysis import STOPWORDS

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_YEAR = re.compile(r"^(19|20|21)\d\d$")
_DEADLINE_NOUNS = {
    "target",
    "targets",
    "goal",
    "goals",
    "deadline",
    "deadlines",
    "objective",
    "objectives",
    "due",
}
_DEADLINE_PREPOSITIONS = {"for", "by", "in", "until", "before"}
# "by 2030" is anything due up to then; "for 2030" / "in 2030" is due in that year.
_UP_TO = {"by", "until", "before"}
_PUBLISHED = {"published", "issued", "released", "announced", "publish", "issue", "release"}
# Words of a question that say nothing about what to find.
_QUESTION = frozenset(
    [
        "what",
        "what's",
        "whats",
        "which",
        "who's",
        "where's",
        "there's",
        "can",
        "could",
        "would",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "did",
        "does",
        "do",
        "done",
        "has",
        "have",
        "had",
        "is",
        "are",
        "was",
        "were",
        "been",
        "being",
        "any",
        "anything",
        "something",
        "show",
        "me",
        "find",
        "tell",
        "list",
        "give",
        "get",
        "there",
        "please",
        "i",
        "we",
        "you",
        "us",
        "our",
        "my",
        "about",
        "publish",
        "published",
        "publishes",
        "announce",
        "announced",
        "announces",
        "release",
        "released",
        "releases",
        "issue",
        "issued",
        "say",
        "said",
        "says",
        "put",
        "out",
        "come",
        "came",
        "happened",
        "happen",
    ]
)


@dataclass
class Reading:
    notes: list[str] = field(default_factory=list)  # "body:NDRC", "due:2026", ...

    @property
    def changed(self) -> bool:
        return bool(self.notes)


def _clean(word: str) -> str:
    return word.strip("?,.!;:").lower()


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def understand(query: Query, today: date, names: BodyNames) -> Reading:
    """Turn what it can of `query.words` into filters (in place)."""
    reading = Reading()
    words = list(query.words)
    kept: list[str] = []
    i = 0
    while i < len(words):
        taken = _time_phrase(query, [_clean(w) for w in words[i : i + 4]], today, reading)
        if taken:
            i += taken
            continue
        body = None
        span = 1
        for span in range(min(6, len(words) - i), 0, -1):
            text = " ".join(words[i : i + span]).strip("?,.!;:")
            if span == 1 and (text.isdigit() or text.islower() and len(text) < 5):
                continue  # "mof" or "1" are more likely words
            body = names.find(text)
            if body is not None:
                break
        if body is not None and not query.bodies:
            query.bodies.append(body.abbreviation)
            reading.notes.append(f"body:{body.abbreviation}")
            i += span
            continue
        kept.append(words[i])
        i += 1
    if query.due_year is not None or query.due_by is not None:
        # "which targets are due by 2027": the filter already says "targets".
        kept = [w for w in kept if _clean(w) not in _DEADLINE_NOUNS] or kept
    if reading.changed or any(_clean(w) in _QUESTION for w in kept):
        # Function words only joined the words to the phrase understood ("the", "from").
        dropped = _QUESTION | STOPWORDS if reading.changed else _QUESTION
        meaningful = [w for w in kept if _clean(w) not in dropped and _clean(w)]
        has_other = meaningful or query.phrases or query.any_of or query.has_filters
        if has_other and len(meaningful) < len(kept):
            kept = [w.strip("?,.!;:") for w in meaningful]
    query.words = kept
    return reading


def _time_phrase(query: Query, words: list[str], today: date, reading: Reading) -> int:
    """How many of `words` (from the start) make a time phrase it applied; 0 if none."""
    if not words:
        return 0
    first = words[0]
    second = words[1] if len(words) > 1 else ""
    third = words[2] if len(words) > 2 else ""
    no_due = query.due_year is None and query.due_by is None
    # Deadlines: "due next year", "due this year", "due 2027", "due in 2027", "due by 2030".
    if first == "due" and no_due:
        if second in ("next", "this") and third == "year":
            return _due(query, today.year + (second == "next"), reading, 3)
        if _YEAR.match(second):
            return _due(query, int(second), reading, 2)
        if second in _DEADLINE_PREPOSITIONS and _YEAR.match(third):
            return _due_phrase(query, second, int(third), reading, 3)
    # "targets for 2027", "goals by 2030", "deadlines in 2026".
    deadline = first in _DEADLINE_NOUNS and second in _DEADLINE_PREPOSITIONS
    if deadline and _YEAR.match(third) and no_due:
        return _due_phrase(query, second, int(third), reading, 3)
    # "by 2030", "for 2027": a target year.
    if first in ("by", "for", "until", "before") and _YEAR.match(second) and no_due:
        return _due_phrase(query, first, int(second), reading, 2)
    if query.since is not None or query.until is not None:
        return 0
    # "November 2024", "Nov 2024": published that month.
    if first in _MONTHS and _YEAR.match(second):
        return _published(query, *_month_bounds(int(second), _MONTHS[first]), reading, 2)
    # "published in 2024", "issued 2023": published that year.
    if first in _PUBLISHED:
        said = second if _YEAR.match(second) else third if second in ("in", "during") else ""
        if _YEAR.match(said):
            whole = (date(int(said), 1, 1), date(int(said), 12, 31))
            return _published(query, *whole, reading, 2 if said == second else 3)
    # Publication dates.
    if first in ("last", "past", "previous") and second == "month":
        month = today.replace(day=1) - timedelta(days=1)
        return _published(query, *_month_bounds(month.year, month.month), reading, 2)
    if first == "this" and second == "month":
        return _published(query, today.replace(day=1), None, reading, 2)
    if first in ("last", "past", "previous") and second == "week":
        return _published(query, today - timedelta(days=7), None, reading, 2)
    if first in ("last", "previous") and second == "year":
        return _published(
            query, date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), reading, 2
        )
    if first == "this" and second == "year":
        return _published(query, date(today.year, 1, 1), None, reading, 2)
    if first in ("last", "past") and second.isdigit() and third in ("months", "days", "weeks"):
        amount = int(second)
        if 0 < amount <= 120:
            days = amount * {"months": 30, "weeks": 7, "days": 1}[third]
            return _published(query, today - timedelta(days=days), None, reading, 3)
    if first == "since" and second in _MONTHS:
        month_number = _MONTHS[second]
        if _YEAR.match(third):
            return _published(query, date(int(third), month_number, 1), None, reading, 3)
        year = today.year if month_number <= today.month else today.year - 1
        return _published(query, date(year, month_number, 1), None, reading, 2)
    if first == "since" and _YEAR.match(second):
        return _published(query, date(int(second), 1, 1), None, reading, 2)
    if first == "in" and second in _MONTHS and len(second) > 3:
        month_number = _MONTHS[second]
        if _YEAR.match(third):
            return _published(query, *_month_bounds(int(third), month_number), reading, 3)
        year = today.year if month_number <= today.month else today.year - 1
        return _published(query, *_month_bounds(year, month_number), reading, 2)
    return 0


def _due_phrase(query: Query, preposition: str, year: int, reading: Reading, taken: int) -> int:
    """ "for 2027" / "in 2027": due that year; "by 2030" / "until 2030": due up to its end;
    "before 2030": up to the end of 2029."""
    if preposition not in _UP_TO:
        return _due(query, year, reading, taken)
    query.due_by = year - 1 if preposition == "before" else year
    reading.notes.append(f"due:..{query.due_by}")
    return taken


def _due(query: Query, year: int, reading: Reading, taken: int) -> int:
    query.due_year = year
    reading.notes.append(f"due:{year}")
    return taken


def _published(query: Query, since: date, until: date | None, reading: Reading, taken: int) -> int:
    query.since = since
    reading.notes.append(f"since:{since.isoformat()}")
    if until is not None:
        query.until = until
        reading.notes.append(f"until:{until.isoformat()}")
    return taken
