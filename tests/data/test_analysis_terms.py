"""index_terms reads each text once, caches words' terms in a dictionary and skips the
hyphen pattern when no hyphen is there: what it returns must be what the plain,
token-by-token reading of the same rules returns."""

from __future__ import annotations

import random

from benchmarks.corpus import generate_issue
from policybot.data.search import analysis
from policybot.data.search.analysis import distinct_words, index_terms, terms, words


def _plain_terms(text: str) -> list[str]:
    out: list[str] = []
    normalized = analysis._join_acronyms(analysis.normalize(text))
    for match in analysis._TOKEN.finditer(normalized):
        token = match.group(0)
        if analysis._IS_CJK.match(token):
            out.extend(analysis.cjk_bigrams(token))
        else:
            out.append(analysis._word_term(token)[: analysis.MAX_TERM_CHARS])
    return out


def _plain_index_terms(text: str) -> list[str]:
    normalized = analysis.normalize(text)
    tokens = analysis._TOKEN.findall(normalized)
    tails = [run[-1] for run in tokens if len(run) > 1 and analysis._IS_CJK.match(run)]
    joined = [
        analysis.stem(m[1] + m[2])
        for m in analysis._HYPHENATED.finditer(normalized)
        if (m[1] + m[2]).isascii()
    ]
    return _plain_terms(text) + tails + joined


_PIECES = [
    "e-commerce",
    "state\u2011owned",
    "A.I.",
    "U.S.-China",
    "电池储能",
    "电池",
    "芯片x储能",
    "储",
    "人形机器人",
    "Xi's",
    "labour\u2019s",
    "centre",
    "ＡＢＣ",
    "full-width ＡＩ",
    "2025-2027",
    "-lead",
    "co-",
    "ÉCOLE",
    "straße",
    "x" * 250,
    "日本の技術",
    "한국어",
]


def test_index_terms_match_the_plain_reading() -> None:
    rng = random.Random(3)
    texts = generate_issue(60, seed=4).split("\n\n")
    for _ in range(300):
        texts.append(" ".join(rng.choice(_PIECES + texts[:40]) for _ in range(rng.randint(1, 8))))
    for text in texts:
        assert terms(text) == _plain_terms(text), text
        assert index_terms(text) == _plain_index_terms(text), text
        assert index_terms(text) == _plain_index_terms(text), text  # now from the cache
        assert distinct_words(text) == set(words(text)), text
    joined = " ".join(texts)
    assert distinct_words(joined) == set().union(*(set(words(t)) for t in texts))
