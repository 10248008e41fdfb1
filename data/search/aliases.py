"""Aliases the briefs teach: a term defined in parentheses on first use is a synonym.

    "the power usage effectiveness (PUE) of new data centers"   PUE = power usage effectiveness
    "the Belt and Road Initiative (BRI)"                        BRI = Belt and Road Initiative
    "工业和信息化部（MIIT）"                                       MIIT = 工业和信息化部
    "the Belt and Road (一带一路)"                               一带一路 = Belt and Road

Learned at ingestion (`learn_aliases`, called by data/ingest/writer.py), kept in the
`learned_aliases` table, and used by the same expansion path as the thesaurus
(`search_thesaurus`: data/thesaurus.toml plus what was learned, at a lower weight), so a
store's own vocabulary generalises past any hand-kept list.

Guards against junk: the short form is an acronym (2-12 characters, two capitals or more,
not a roman numeral) or a short Chinese term; its long form is found by the
Schwartz-Hearst rule (the acronym's letters in order, the first at the start of a word,
within one sentence, at most len+5 words back), so "(2024)", "(see below)", a number, a
source tag after a full stop ("... manufacturing. (SCMP)") are not aliases. A short form
the briefs define in more than MAX_MEANINGS ways means nothing in particular and expands
to none of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ..backends import backend_for
from ..db import READ_ONLY
from ..models import LearnedAlias
from .analysis import STOPWORDS, terms
from .thesaurus import Thesaurus, build, merged, thesaurus

LEARNED_WEIGHT = 0.5  # below the thesaurus's 0.6: a curated name is the surer synonym
MAX_MEANINGS = 3
MAX_SHORT = 12
MAX_LONG = 120
MAX_CJK_LONG = 12  # a Chinese long form: the run of Chinese before the parenthesis

_PARENTHESIS = re.compile(r"[(（]\s*([^()（）\n]{1,40}?)\s*[)）]")
_ACRONYM = re.compile(r"^[A-Za-z][A-Za-z0-9&\-.]{1,11}$")
_ROMAN = re.compile(r"^[IVXLC]+$")
_CJK_TERM = re.compile(r"^[\u3400-\u9fff]{2,10}$")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}$")
_SENTENCE_END = re.compile(r"[.;:!?。；：！？\n)（）(]")
_WORD = re.compile(r"[^\W_][\w'’\-]*")
# Inside a capitalised name: "Belt and Road", "Ministry of Industry and Information Technology".
_NAME_JOINERS = frozenset(["and", "of", "for", "the", "on", "in", "&"])


@dataclass(frozen=True)
class Definition:
    short: str
    long: str


def definitions(text: str) -> list[Definition]:
    """The terms `text` defines in parentheses, each once, in order."""
    found: list[Definition] = []
    for match in _PARENTHESIS.finditer(text):
        inside = match.group(1).strip()
        before = text[: match.start()]
        definition = _acronym(inside, before) or _chinese_name(inside, before)
        if definition is not None and definition not in found:
            found.append(definition)
    return found


def _acronym(short: str, before: str) -> Definition | None:
    if not _ACRONYM.match(short) or _ROMAN.match(short):
        return None
    capitals = sum(1 for ch in short if ch.isupper())
    if capitals < 2 or not terms(short) or short.lower() in STOPWORDS:
        return None
    cjk = _CJK_RUN.search(before.rstrip())
    if cjk is not None:
        run = cjk.group(0)
        return Definition(short, run) if len(run) <= MAX_CJK_LONG else None
    sentence = _SENTENCE_END.split(before)[-1]
    letters = short[:-1] if short.endswith("s") and short[:-1].isupper() else short  # NEVs
    letters = "".join(ch for ch in letters if ch.isalnum())
    words = _WORD.findall(sentence)[-(min(len(letters) + 5, 2 * len(letters))) :]
    long = _schwartz_hearst(letters.lower(), " ".join(words))
    if long is None:
        return None
    long_words = long.split()
    while long_words and long_words[0].lower() in STOPWORDS:
        long_words.pop(0)
    long = " ".join(long_words)
    if not long or len(long) <= len(short) or len(long) > MAX_LONG:
        return None
    if len(long_words) > len(letters) + 5 or long.lower() == short.lower():
        return None
    return Definition(short, long)


def _schwartz_hearst(short: str, long: str) -> str | None:
    """The shortest end of `long` holding the letters of `short` in order, the first at the
    start of a word (Schwartz & Hearst 2003)."""
    s, at = len(short) - 1, len(long) - 1
    lowered = long.lower()
    while s >= 0:
        wanted = short[s]
        while at >= 0 and (
            lowered[at] != wanted or (s == 0 and at > 0 and lowered[at - 1].isalnum())
        ):
            at -= 1
        if at < 0:
            return None
        at -= 1
        s -= 1
    start = long.rfind(" ", 0, at + 1) + 1
    return long[start:].strip() or None


def _chinese_name(short: str, before: str) -> Definition | None:
    """ "the Belt and Road (一带一路)": a Chinese term after a capitalised English name."""
    if not _CJK_TERM.match(short):
        return None
    words = _WORD.findall(_SENTENCE_END.split(before)[-1])
    name: list[str] = []
    for word in reversed(words[-8:]):
        if word[0].isupper() or (name and word.lower() in _NAME_JOINERS):
            name.insert(0, word)
        else:
            break
    while name and name[0].lower() in _NAME_JOINERS:
        name.pop(0)
    if not name or (len(name) == 1 and len(name[0]) < 3):
        return None
    return Definition(short, " ".join(name))


def learn_aliases(session: Session, texts: Iterable[str]) -> int:
    """Keep the aliases `texts` define (those already known are kept once); how many
    definitions were read."""
    found = {
        (d.short[:40], d.long[:200])
        for text in texts
        if text
        for d in definitions(" ".join(text.split()))  # a line break is not a sentence's end
    }
    if not found:
        return 0
    statement = backend_for(session).insert_ignoring_duplicates(
        LearnedAlias, ["short_form", "long_form"]
    )
    session.execute(statement, [{"short_form": s, "long_form": lg} for s, lg in sorted(found)])
    return len(found)


_MARK = select(func.count(LearnedAlias.id), func.coalesce(func.max(LearnedAlias.id), 0))
_KEPT: dict[str, tuple[tuple[int, ...], Thesaurus]] = {}


def learned_groups(session: Session) -> list[tuple[list[str], float]]:
    """Each learned short form with its long forms (a short form with more than
    MAX_MEANINGS long forms is left out: it names no one thing)."""
    meanings: dict[str, list[str]] = {}
    rows = session.execute(
        select(LearnedAlias.short_form, LearnedAlias.long_form).order_by(LearnedAlias.id)
    )
    for short, long in rows:
        meanings.setdefault(short, []).append(long)
    return [
        ([short, *longs], LEARNED_WEIGHT)
        for short, longs in meanings.items()
        if len(longs) <= MAX_MEANINGS
    ]


def search_thesaurus(session: Session) -> Thesaurus:
    """The thesaurus searches expand with: data/thesaurus.toml and the learned aliases."""
    return marked_search_thesaurus(session)[1]


def marked_search_thesaurus(session: Session) -> tuple[tuple[int, ...], Thesaurus]:
    """The search thesaurus and the mark of the learned table it was made from. Kept per
    database under the mark for read-only sessions (as the body table is: what they see is
    committed); others read the table (a few hundred rows at most)."""
    bind = session.get_bind()
    kept = isinstance(bind, Engine) and bool(bind.get_execution_options().get(READ_ONLY))
    database = bind.url.render_as_string(hide_password=True) if isinstance(bind, Engine) else ""
    mark = tuple(session.execute(_MARK).one())
    if mark[0] == 0:
        return mark, thesaurus()
    if kept and (found := _KEPT.get(database)) is not None and found[0] == mark:
        return found
    combined = merged(thesaurus(), build(learned_groups(session)))
    if kept:
        _KEPT[database] = (mark, combined)
    return mark, combined
