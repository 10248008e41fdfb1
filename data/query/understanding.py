"""Plain questions -> filters and what to answer with, the way an analyst means them.

    what are the deadlines for batteries   -> the deadline list, for `batteries`
    latest from the State Council          -> the newest briefs, `body:"State Council"`
    targets due in 2027 / 2027年 目标       -> `due:2027`
    who issued the lithium battery rules   -> `lithium battery rules`, naming the bodies

One reading serves search, `latest` and `deadlines`, whichever order the words come in:

- intent words: "deadline(s)", "due" (without a year), "upcoming" ask for the deadline list;
  "latest", "newest", "most recent", "recent", "what's new" (最新, 最近) for the newest
  briefs ("latest 3", "the 10 newest": how many); "who", "which bodies/ministries" (谁,
  哪个部门) for the issuing bodies of what is found;
- known issuing bodies become a `body:` filter ("MIIT's", "the State Council", 工信部);
- time phrases become a deadline filter ("due next year", "targets for 2027", "2027
  targets", "in 2027" when 2027 is ahead; "by 2030", "before 2028", "by the end of 2030" ->
  due up to then) or a publication-date filter ("last month", "since October", "after
  November", "before December", "until 2024-11-30", "November 2024", "in 2024" when 2024
  is past, "published in 2024"); Chinese dates too (2025年以来, 2024年11月, 到2030年);
- question words ("what did ... publish"), and, once something was understood, function
  words, the deadline nouns a deadline filter already says ("targets") and the nouns that
  only say "briefs" ("policies", "documents", "news") are dropped when something else
  remains. Any other word stays a search word.

Queries are values: the parsed Query is never changed; the reading is a new Query
(`Reading.query`), with what was understood (`Reading.notes`) for the reply's "I read this
as ...". data/query/meaning.py is the one way text becomes a reading and a filter.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum

from ..search.analysis import STOPWORDS, is_cjk
from .compiler import BodyNames
from .language import Query

MAX_COUNT = 50  # "latest 10": at most this many


class Intent(StrEnum):
    SEARCH = "search"
    LATEST = "latest"  # the newest matching briefs first
    DEADLINES = "deadlines"  # the matching goals by deadline, soonest first


_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_YEAR = re.compile(r"^(19|20|21)\d\d$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DEADLINE_NOUNS = frozenset(
    [
        "target",
        "targets",
        "goal",
        "goals",
        "deadline",
        "deadlines",
        "objective",
        "objectives",
        "due",
        "milestone",
        "milestones",
        "目标",
    ]
)
_DEADLINE_PREPOSITIONS = {"for", "by", "in", "until", "before", "till"}
# "by 2030" is anything due up to then; "for 2030" / "in 2030" is due in that year.
_UP_TO = {"by", "until", "before", "till"}
_PUBLISHED = {"published", "issued", "released", "announced", "publish", "issue", "release"}
# The words that ask for the deadline list, for the newest briefs, and for who issued them.
_DEADLINE_WORDS = frozenset(["deadline", "deadlines", "upcoming", "countdown", "countdowns"])
_LATEST_WORDS = frozenset(["latest", "newest", "recent", "recently"])
_WHO_NOUNS = frozenset(
    [
        "body",
        "bodies",
        "ministry",
        "ministries",
        "agency",
        "agencies",
        "department",
        "departments",
        "regulator",
        "regulators",
        "authority",
        "authorities",
        "issuer",
        "issuers",
    ]
)
# In "who regulates ...", "which bodies are involved in ...": what the asker wants named.
_WHO_VERBS = frozenset(
    [
        "regulate",
        "regulates",
        "regulating",
        "responsible",
        "involved",
        "charge",
        "behind",
        "oversee",
        "oversees",
        "handles",
        "handle",
        "wrote",
        "drafted",
        "signed",
    ]
)
# "which goals fall due in 2027": verbs around a deadline that a deadline filter already says.
_DEADLINE_VERBS = frozenset(
    ["fall", "falls", "falling", "come", "comes", "coming", "expire", "expires", "expiring"]
)
# Nouns that only say "briefs": the store holds nothing else.
_BRIEF_NOUNS = frozenset(
    [
        "policy",
        "policies",
        "document",
        "documents",
        "brief",
        "briefs",
        "news",
        "update",
        "updates",
        "item",
        "items",
        "stuff",
        "things",
        "developments",
    ]
)
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
        "doing",
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
        "issues",
        "approve",
        "approved",
        "approves",
        "adopt",
        "adopted",
        "launch",
        "launched",
        "unveil",
        "unveiled",
        "say",
        "said",
        "says",
        "put",
        "out",
        "come",
        "came",
        "happened",
        "happen",
        "happening",
        "going",
        "them",
        "they",
        "these",
        "those",
    ]
)
_FUNCTION = _QUESTION | STOPWORDS | {"with", "till", "up", "since", "after", "before", "until"}

# Chinese questions come without spaces: these pieces are cut out of a run of Chinese and
# read as the English words beside them (a body's Chinese name is cut out as itself).
_CJK_TIME = re.compile(r"(到|至)?(\d{4})年(?:(\d{1,2})月)?(底前|底|以来|以后|之后|之前|以前|前)?")
_CJK_WORDS = {
    "最新": "latest",
    "最近": "latest",
    "近期": "latest",
    "截止日期": "deadlines",
    "截止时间": "deadlines",
    "截止": "deadlines",
    "期限": "deadlines",
    "到期": "deadlines",
    "哪些部门": "who",
    "哪个部门": "who",
    "哪些机构": "who",
    "哪个机构": "who",
    "谁": "who",
    "发布": "published",
    "出台": "published",
    "印发": "published",
    "颁布": "published",
    "公布": "published",
    "有哪些": "what",
    "是什么": "what",
    "什么": "what",
    "哪些": "what",
    "关于": "about",
    "有关": "about",
}
_CJK_TAIL = ("吗", "呢", "了", "？")
_CJK_PARTICLES = frozenset("吗呢了的啊吧？")  # a piece of only these says nothing


@dataclass(frozen=True)
class Reading:
    query: Query  # the query as understood (a new value: the parsed one is unchanged)
    notes: tuple[str, ...] = ()  # what was read: "body:NDRC", "due:2026", "latest", ...
    intent: Intent = Intent.SEARCH
    asks_who: bool = False  # "who issued ...", "which bodies ...": name the issuing bodies
    count: int | None = None  # "latest 3", "the 10 newest"

    @property
    def changed(self) -> bool:
        return bool(self.notes)


@dataclass
class _State:
    query: Query  # what has been understood so far: each phrase read replaces it with a new value
    today: date
    deadline_context: bool  # the question speaks of deadlines: a lone future year is one
    notes: list[str] = field(default_factory=list)
    intent: Intent = Intent.SEARCH
    asks_who: bool = False
    count: int | None = None

    def set_intent(self, intent: Intent) -> None:
        if self.intent is Intent.SEARCH:
            self.intent = intent
            self.notes.append(str(intent))


def _clean(word: str) -> str:
    word = word.strip("?,.!;:()\"'“”‘’？，。！；：").lower()
    if word in _QUESTION:
        return word  # "what's" is not the possessive of "what"
    for possessive in ("'s", "\u2019s"):
        if word.endswith(possessive) and len(word) > len(possessive):
            return word[: -len(possessive)]
    return word


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def understand(
    query: Query,
    today: date,
    names: BodyNames,
    intent: Intent = Intent.SEARCH,
    *,
    literal_first: bool = False,
) -> Reading:
    """Read the question in `query.words`. `intent`: what the command already asks for (the
    words cannot change it, only add to it). `literal_first`: the first word is a search
    word whatever it says (`search latest` searches for "latest")."""
    words = _split_chinese(list(query.words), names)
    lowered = [_clean(w) for w in words]
    state = _State(
        query,
        today,
        deadline_context=intent is Intent.DEADLINES
        or any(w in _DEADLINE_NOUNS or w in _DEADLINE_WORDS for w in lowered),
        intent=intent,
    )
    kept: list[str] = []
    i = 0
    while i < len(words):
        if literal_first and i == 0:
            kept.append(words[i])
            i += 1
            continue
        taken = _time_phrase(state, lowered[i : i + 5])
        if not taken:
            taken = _intent_phrase(state, lowered, i)
        if not taken:
            taken = _body(state, words, i, names)
        if taken:
            i += taken
            continue
        kept.append(words[i])
        i += 1
    understood = replace(state.query, words=tuple(_meaningful(state, kept, literal_first)))
    return Reading(understood, tuple(state.notes), state.intent, state.asks_who, state.count)


def _meaningful(state: _State, kept: list[str], literal_first: bool) -> list[str]:
    """The words left to search for, without those that only framed the question."""
    query = state.query
    first = kept[:1] if literal_first else []
    rest = kept[1:] if literal_first else kept
    deadline = query.due_year is not None or query.due_by is not None
    if deadline or state.intent is Intent.DEADLINES:
        # "which targets are due by 2027": the filter already says "targets".
        rest = [w for w in rest if _clean(w) not in _DEADLINE_NOUNS | _DEADLINE_VERBS]
    if state.asks_who:
        rest = [w for w in rest if _clean(w) not in _WHO_NOUNS | _WHO_VERBS]
    changed = bool(state.notes) or deadline or state.intent is not Intent.SEARCH
    if changed or any(_clean(w) in _QUESTION for w in rest):
        # Function words only joined the words to the phrase understood ("the", "from").
        dropped = _FUNCTION | _BRIEF_NOUNS if changed else _QUESTION
        meaningful = _without_framing(rest, dropped)
        has_other = (
            meaningful
            or first
            or query.phrases
            or query.any_of
            or query.has_filters
            or str(state.intent) in state.notes  # "latest" alone asks for something
        )
        if has_other and (changed or len(meaningful) < len(rest)):
            rest = [w.strip("?,.!;:？，。！") for w in meaningful]
    return first + rest


def _without_framing(words: list[str], dropped: frozenset[str]) -> list[str]:
    """The words that are not in `dropped`, and a stopword between two of them ("Belt and
    Road", "Ministry of Finance": a name keeps its joints, so a thesaurus name or a body
    is still found in the words left)."""
    keep = [bool(_clean(w)) and _clean(w) not in dropped for w in words]
    for i in range(1, len(words) - 1):
        joint = _clean(words[i]) in STOPWORDS and _clean(words[i]) not in _QUESTION
        if joint and keep[i - 1] and keep[i + 1]:
            keep[i] = True
    return [w for w, kept in zip(words, keep, strict=True) if kept]


def _split_chinese(words: list[str], names: BodyNames) -> list[str]:
    """Cut the known pieces out of runs of Chinese: "工信部最近发布了什么" is 工信部,
    latest, published, what."""
    bodies = sorted(
        {n for body in names.by_name.values() for n in body.names if n and is_cjk(n[0])},
        key=len,
        reverse=True,
    )
    pieces = sorted(_CJK_WORDS, key=len, reverse=True)
    pattern = re.compile(
        "(" + "|".join([_CJK_TIME.pattern, *map(re.escape, bodies), *map(re.escape, pieces)]) + ")"
    )
    out: list[str] = []
    for word in words:
        if not any(is_cjk(ch) for ch in word) and "年" not in word:
            out.append(word)
            continue
        stripped = word
        while stripped.endswith(_CJK_TAIL) and len(stripped) > 1:
            stripped = stripped[:-1]
        position = 0
        for match in pattern.finditer(stripped):
            if match.start() > position:
                out.append(stripped[position : match.start()])
            out.extend(_chinese_piece(match.group(0)))
            position = match.end()
        if position < len(stripped):
            out.append(stripped[position:])
    return [w for w in out if w and not set(w) <= _CJK_PARTICLES]


def _chinese_piece(piece: str) -> list[str]:
    if piece in _CJK_WORDS:
        return [_CJK_WORDS[piece]]
    time = _CJK_TIME.fullmatch(piece)
    if time is None:
        return [piece]  # a body's name
    by, year, month, after = time.groups()
    said = (
        [calendar.month_name[int(month)].lower(), year]
        if month and 1 <= int(month) <= 12
        else [year]
    )
    if by or after in ("底前", "底"):
        return ["by", year]
    if after == "以来":
        return ["since", *said]
    if after in ("以后", "之后"):
        return ["after", *said]
    if after in ("之前", "以前", "前"):
        return ["before", *said]
    return said


def _intent_phrase(state: _State, words: list[str], i: int) -> int:
    """Words that say what to answer with; how many it took (0: none)."""
    word = words[i]
    following = words[i + 1] if i + 1 < len(words) else ""
    previous = words[i - 1] if i > 0 else ""
    if (
        word in ("what's", "whats")
        and following == "new"
        or (word == "what" and following == "is" and words[i + 2 : i + 3] == ["new"])
    ):
        state.set_intent(Intent.LATEST)
        return 2 if word != "what" else 3
    if word == "most" and following in ("recent", "recently"):
        state.set_intent(Intent.LATEST)
        return 2 + _count_after(state, words, i + 2)
    if word in _LATEST_WORDS:
        state.set_intent(Intent.LATEST)
        return 1 + _count_after(state, words, i + 1)
    counted = word.isdecimal() and 1 <= int(word) <= MAX_COUNT and state.count is None
    if counted and following in _LATEST_WORDS | {"most"}:  # "the 10 newest"
        state.count = int(word)
        return 1
    if word in _DEADLINE_WORDS or word == "due" and following != "to":
        # "due" with a year is a deadline filter (read before this); alone it asks when.
        state.set_intent(Intent.DEADLINES)
        return 1
    if (
        word == "who"
        or (word in ("which", "what") and following in _WHO_NOUNS)
        or (word in _WHO_NOUNS and previous in ("which", "what"))
    ):
        if not state.asks_who:
            state.asks_who = True
            state.notes.append("who")
        return 1
    return 0


def _count_after(state: _State, words: list[str], at: int) -> int:
    """ "latest 3": how many to show (1 if a count was taken)."""
    said = words[at] if at < len(words) else ""
    if said.isdecimal() and 1 <= int(said) <= MAX_COUNT and state.count is None:
        state.count = int(said)
        return 1
    return 0


def _body(state: _State, words: list[str], i: int, names: BodyNames) -> int:
    """A known issuing body's name (of up to six words) as a `body:` filter."""
    if state.query.bodies:
        return 0  # a second body stays a search word (briefs naming it)
    for span in range(min(6, len(words) - i), 0, -1):
        text = " ".join(words[i : i + span]).strip("?,.!;:？，。！")
        if span == 1:
            text = _possessive(text)
            if text.isdigit() or text.islower() and len(text) < 5:
                continue  # "mof" or "1" are more likely words
        body = names.find(text)
        if body is not None:
            state.query = replace(state.query, bodies=(body.abbreviation,))
            state.notes.append(f"body:{body.abbreviation}")
            return span
    return 0


def _possessive(text: str) -> str:
    for ending in ("'s", "\u2019s"):
        if text.endswith(ending) and len(text) > len(ending):
            return text[: -len(ending)]
    return text


def _recent_month(today: date, month: int) -> int:
    """The year of the latest `month` that has begun ("since October" in February)."""
    return today.year if month <= today.month else today.year - 1


def _time_phrase(state: _State, words: list[str]) -> int:
    """How many of `words` (from the start) make a time phrase it applied; 0 if none."""
    if not words:
        return 0
    query, today = state.query, state.today
    first = words[0]
    second = words[1] if len(words) > 1 else ""
    third = words[2] if len(words) > 2 else ""
    no_due = query.due_year is None and query.due_by is None
    if no_due:
        taken = _deadline_phrase(state, words)
        if taken:
            return taken
    # "before 2025", "until 2024" with a year that has begun: published up to then.
    if first in ("before", "until", "till") and _YEAR.match(second) and query.until is None:
        year = int(second) - (first == "before")
        if int(second) <= today.year:
            return _published(state, None, date(year, 12, 31), 2)
    if (
        first == "after"
        and _YEAR.match(second)
        and query.since is None
        and int(second) < today.year
    ):
        return _published(state, date(int(second) + 1, 1, 1), None, 2)
    # An ISO day after since/after/before/until.
    if first in ("since", "from", "after", "before", "until", "till") and (day := _iso_day(second)):
        if first in ("since", "from", "after") and query.since is None:
            start = day + timedelta(days=1) if first == "after" else day
            return _published(state, start, None, 2)
        if first in ("before", "until", "till") and query.until is None:
            end = day - timedelta(days=1) if first == "before" else day
            return _published(state, None, end, 2)
    # Month phrases: "since October", "after November 2024", "before December", "until Jan".
    if first in ("since", "from", "after", "before", "until", "till") and second in _MONTHS:
        month = _MONTHS[second]
        year = int(third) if _YEAR.match(third) else _recent_month(today, month)
        taken = 3 if _YEAR.match(third) else 2
        start, end = _month_bounds(year, month)
        if first in ("since", "from") and query.since is None:
            return _published(state, start, None, taken)
        if first == "after" and query.since is None:
            return _published(state, end + timedelta(days=1), None, taken)
        if first == "before" and query.until is None:
            return _published(state, None, start - timedelta(days=1), taken)
        if first in ("until", "till") and query.until is None:
            return _published(state, None, end, taken)
    if query.since is not None or query.until is not None:
        return 0
    # "November 2024", "Nov 2024": published that month.
    if first in _MONTHS and _YEAR.match(second):
        return _published(state, *_month_bounds(int(second), _MONTHS[first]), 2)
    # "published in 2024", "issued 2023": published that year.
    if first in _PUBLISHED:
        said = second if _YEAR.match(second) else third if second in ("in", "during") else ""
        if _YEAR.match(said):
            whole = (date(int(said), 1, 1), date(int(said), 12, 31))
            return _published(state, *whole, 2 if said == second else 3)
    # "in 2024" with a year that has begun: published then ("in 2027" ahead is a deadline).
    if first in ("in", "during") and _YEAR.match(second) and int(second) <= today.year:
        return _published(state, date(int(second), 1, 1), date(int(second), 12, 31), 2)
    # Publication dates.
    if first in ("last", "past", "previous") and second == "month":
        previous = today.replace(day=1) - timedelta(days=1)
        return _published(state, *_month_bounds(previous.year, previous.month), 2)
    if first == "this" and second == "month":
        return _published(state, today.replace(day=1), None, 2)
    if first in ("last", "past", "previous") and second == "week":
        return _published(state, today - timedelta(days=7), None, 2)
    if first == "this" and second == "week":
        return _published(state, today - timedelta(days=today.weekday()), None, 2)
    if first in ("last", "previous") and second == "year":
        return _published(state, date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), 2)
    if first == "this" and second == "year":
        return _published(state, date(today.year, 1, 1), None, 2)
    if first in ("last", "past") and second.isdigit() and third in ("months", "days", "weeks"):
        amount = int(second)
        if 0 < amount <= 120:
            days = amount * {"months": 30, "weeks": 7, "days": 1}[third]
            return _published(state, today - timedelta(days=days), None, 3)
    if first == "since" and _YEAR.match(second):
        return _published(state, date(int(second), 1, 1), None, 2)
    if first == "in" and second in _MONTHS and len(second) > 3:
        month = _MONTHS[second]
        if _YEAR.match(third):
            return _published(state, *_month_bounds(int(third), month), 3)
        return _published(state, *_month_bounds(_recent_month(today, month), month), 2)
    return 0


def _deadline_phrase(state: _State, words: list[str]) -> int:
    """A deadline year: "due next year", "targets for 2027", "by 2030", "2027 targets",
    "by the end of 2030", "in 2027" (ahead). How many words it took; 0 if none."""
    today = state.today
    first, second, third = (words + ["", "", ""])[:3]
    if first == "due":
        if second in ("next", "this") and third == "year":
            return _due(state, today.year + (second == "next"), 3)
        if _YEAR.match(second):
            return _due(state, int(second), 2)
        if second in _DEADLINE_PREPOSITIONS and _YEAR.match(third):
            return _due_phrase(state, second, int(third), 3)
        if second in ("by", "before") and third in ("end", "the"):
            taken = _end_of(words[2:])
            if taken:
                return _due_phrase(state, "by", int(words[2 + taken - 1]), 2 + taken)
    if first in _DEADLINE_NOUNS:
        # "targets for 2027", "goals by 2030", "deadlines in 2026", "targets this year".
        taken = 0
        if second in _DEADLINE_PREPOSITIONS and _YEAR.match(third):
            taken = _due_phrase(state, second, int(third), 3)
        elif second in ("next", "this") and third == "year":
            taken = _due(state, today.year + (second == "next"), 3)
        if taken and first in _DEADLINE_WORDS:
            state.set_intent(Intent.DEADLINES)  # "deadlines in 2026" lists them
        if taken:
            return taken
    # "by 2030", "for 2027": a target year ("before 2025", begun, is a publication date).
    if first in ("by", "for", "until", "before", "till") and _YEAR.match(second):  # noqa: SIM102
        if first in ("by", "for") or int(second) > today.year:
            return _due_phrase(state, first, int(second), 2)
    # "by the end of 2030", "by end of 2027", "before the end of 2026".
    if first in ("by", "before", "until") and second in ("end", "the"):
        taken = _end_of(words[1:])
        if taken:
            return _due_phrase(state, "by", int(words[taken]), 1 + taken)
    # "in 2027" ahead, "2027 targets", or a lone year ahead in a question about deadlines.
    if first in ("in", "during") and _YEAR.match(second) and int(second) > today.year:
        return _due(state, int(second), 2)
    deadline_year = second in _DEADLINE_NOUNS or state.deadline_context
    if _YEAR.match(first) and deadline_year and int(first) >= today.year:
        return _due(state, int(first), 1)
    if first == "next" and second == "year" and state.deadline_context:
        return _due(state, today.year + 1, 2)
    return 0


def _end_of(words: list[str]) -> int:
    """ "the end of 2030" / "end of 2030": how many words up to the year (0: not that)."""
    at = 1 if words[:1] == ["the"] else 0
    if words[at : at + 2] == ["end", "of"] and len(words) > at + 2 and _YEAR.match(words[at + 2]):
        return at + 3
    return 0


def _iso_day(text: str) -> date | None:
    match = _ISO_DAY.match(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _due_phrase(state: _State, preposition: str, year: int, taken: int) -> int:
    """ "for 2027" / "in 2027": due that year; "by 2030" / "until 2030": due up to its end;
    "before 2030": up to the end of 2029."""
    if preposition not in _UP_TO:
        return _due(state, year, taken)
    state.query = replace(state.query, due_by=year - 1 if preposition == "before" else year)
    state.notes.append(f"due:..{state.query.due_by}")
    return taken


def _due(state: _State, year: int, taken: int) -> int:
    state.query = replace(state.query, due_year=year)
    state.notes.append(f"due:{year}")
    return taken


def _published(state: _State, since: date | None, until: date | None, taken: int) -> int:
    query = state.query
    if since is not None and query.until is not None and since > query.until:
        return 0
    if until is not None and query.since is not None and until < query.since:
        return 0
    if since is not None:
        state.query = replace(state.query, since=since)
        state.notes.append(f"since:{since.isoformat()}")
    if until is not None:
        state.query = replace(state.query, until=until)
        state.notes.append(f"until:{until.isoformat()}")
    return taken
