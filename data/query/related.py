"""Related terms from co-occurrence in the store: suggestions when a search finds little.

The briefs that hold any one of the query's words (the anchors, best first, at most
ANCHORS) are read for the other words they share; a word scores by how many anchors hold
it, weighted by how rare it is in the whole store (a word every brief has says nothing):

    score(w) = anchors holding w / anchors * log(briefs / briefs holding w)

The words offered are only suggestions ("Related: ..."): they never change the answer, and
each finds briefs (it came from them). Plain counting, no model: it costs a few index
queries, and only when a search found less than a page.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import briefs as brief_store
from ..briefs import BriefFilter
from ..models import Brief
from ..search.analysis import STOPWORDS, TermQuery, terms, word_query

_TOKEN = re.compile(r"[A-Za-z][A-Za-z'-]*")
ANCHORS = 50
WINDOW = 4  # words either side of a query word that count as beside it
CANDIDATES = 20  # words whose rarity is counted (one index query each)
COMMON_SHARE = 0.15  # a word in more than this share of all briefs is too common to offer
MIN_LETTERS = 4  # "new", "use": too short to say much
# The genre's own words: every kind of policy brief is a plan, notice or guideline that
# supports, promotes and strengthens; none of them relates one subject to another.
GENRE_WORDS = frozenset(
    [
        "action",
        "plan",
        "plans",
        "guideline",
        "guidelines",
        "opinion",
        "opinions",
        "notice",
        "notices",
        "measure",
        "measures",
        "implementation",
        "implementing",
        "implement",
        "important",
        "issued",
        "issue",
        "released",
        "release",
        "announced",
        "announce",
        "published",
        "publish",
        "development",
        "develop",
        "developing",
        "construction",
        "build",
        "building",
        "cover",
        "covers",
        "covering",
        "including",
        "include",
        "includes",
        "support",
        "supports",
        "supporting",
        "promote",
        "promotes",
        "promoting",
        "strengthen",
        "strengthening",
        "national",
        "china",
        "chinese",
        "government",
        "ministry",
        "ministries",
        "industry",
        "industries",
        "industrial",
        "quality",
        "high",
        "key",
        "major",
        "also",
        "will",
        "would",
        "should",
        "year",
        "years",
        "month",
        "months",
        "target",
        "targets",
        "goal",
        "goals",
        "level",
        "levels",
        "work",
        "working",
        "system",
        "systems",
        "field",
        "fields",
        "area",
        "areas",
        "sector",
        "sectors",
        "related",
        "relevant",
        "other",
        "more",
        "most",
        "such",
        "various",
        "several",
        "further",
        "first",
        "second",
        "third",
        "total",
        "according",
        "over",
        "under",
        "with",
        "within",
        "between",
        "about",
        "after",
        "before",
        "than",
        "onto",
        "upon",
        "while",
        "where",
        "which",
        "whose",
        "when",
    ]
)


def related_terms(session: Session, include: tuple[TermQuery, ...], limit: int = 3) -> list[str]:
    """Up to `limit` words that co-occur with the query's words, best first."""
    if not include:
        return []
    anchors = brief_store.search(session, BriefFilter(any_of=(include,)), ANCHORS, load=False).ids
    if len(anchors) < 2:
        return []  # one brief's words are that brief, not a relation
    asked = {term for query in include for sequence in query.alternatives for term in sequence}
    held: Counter[str] = Counter()
    shown: dict[str, str] = {}
    rows = session.execute(select(Brief.title, Brief.summary).where(Brief.id.in_(anchors))).all()
    for title, summary in rows:
        held.update(_neighbours(f"{title}. {summary}", asked, shown))
    total = session.scalar(select(func.count(Brief.id))) or 0
    shared = [(term, count) for term, count in held.most_common() if count >= 2]
    scored: list[tuple[float, str]] = []
    for term, count in shared[:CANDIDATES]:
        query = word_query(shown[term])
        if query is None:
            continue
        everywhere = brief_store.search(session, BriefFilter(include=(query,)), 1, load=False).total
        if not everywhere or everywhere > COMMON_SHARE * total:
            continue
        scored.append((count / len(anchors) * math.log(total / everywhere), shown[term]))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [word for _score, word in scored[:limit]]


def _neighbours(text: str, asked: set[str], shown: dict[str, str]) -> set[str]:
    """The analysed words within WINDOW words of a query word in `text` (a collocation
    says more than sharing a brief: "sodium-ion batteries", "stem cell and gene therapy")."""
    tokens = [(match.group(0), terms(match.group(0))) for match in _TOKEN.finditer(text)]
    analysed = [found[0] if len(found) == 1 else "" for _word, found in tokens]
    near: set[str] = set()
    for at, term in enumerate(analysed):
        if term not in asked:
            continue
        for other in range(max(0, at - WINDOW), min(len(tokens), at + WINDOW + 1)):
            word, candidate = tokens[other][0], analysed[other]
            if not candidate or candidate in asked or len(word) < MIN_LETTERS:
                continue
            if not word.isalpha() or word.lower() in GENRE_WORDS or word.lower() in STOPWORDS:
                continue
            near.add(candidate)
            shown.setdefault(candidate, word.lower())
    return near
