"""Marking the words of a text that a search matched (the index reports its terms per brief).

A word is marked when its analysed term is one the search found in that brief, so
"standardisation" is marked for a search of `standardization`, "stored" for `storage`'s
stem, and a Chinese run is marked on the two-character words it matched (储能 in 新型储能).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

from .analysis import STOPWORDS, cjk_bigrams, is_cjk, terms, token_matches

_ENTITY = re.compile(r"&(?:amp|lt|gt);")  # mrkdwn's escapes: never part of a word


def emphasise(text: str, matched: Collection[str], mark: str = "*") -> str:
    """`text` with every matched word wrapped in `mark` (text itself when none match)."""
    if not matched or not text:
        return text
    entities = [m.span() for m in _ENTITY.finditer(text)]
    spans: list[tuple[int, int]] = []
    for match in token_matches(text):
        start, end = match.span()
        if any(a <= start < b for a, b in entities):
            continue
        token = match.group(0)
        if is_cjk(token):
            spans += _cjk_spans(token, start, matched)
        elif token.lower() not in STOPWORDS and not _token_terms(token).isdisjoint(matched):
            # A stopword is never marked alone: "and" of a matched "Belt and Road" would
            # otherwise be marked in every sentence of the brief.
            spans.append((start, end))
    if not spans:
        return text
    out: list[str] = []
    at = 0
    for start, end in spans:
        out += [text[at:start], mark, text[start:end], mark]
        at = end
    out.append(text[at:])
    return "".join(out)


# Cached: every snippet of every search runs its words through the analyser again, and a
# corpus repeats its words.
@lru_cache(maxsize=65536)
def _token_terms(token: str) -> frozenset[str]:
    return frozenset(terms(token))


def _cjk_spans(run: str, offset: int, matched: Collection[str]) -> list[tuple[int, int]]:
    """Maximal stretches of a CJK run covered by matched bigrams (or single characters)."""
    covered = [False] * len(run)
    for i, gram in enumerate(cjk_bigrams(run)):
        if gram in matched:
            for j in range(i, min(i + len(gram), len(run))):
                covered[j] = True
    spans: list[tuple[int, int]] = []
    start = None
    for i, flag in enumerate([*covered, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            spans.append((offset + start, offset + i))
            start = None
    return spans
