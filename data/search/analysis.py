"""Text analysis shared by both search engines, so SQLite and PostgreSQL match alike.

Documents and queries go through the same steps in Python: NFKC, case folding, English
(Snowball) stemming of Latin words, and overlapping bigrams for runs of CJK characters, so
two-character Chinese words (储能, 电池) are whole index terms. The engines then only see
space-separated terms; user text never reaches their query syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+(?:['\u2019][^\W\d_{_CJK}]+)?")
_IS_CJK = re.compile(f"[{_CJK}]")
_STEMMER = snowballstemmer.stemmer("english")

MAX_TERM_CHARS = 200

STOPWORDS = frozenset(
    [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have",
        "in", "into", "is", "it", "its", "of", "on", "or", "that", "the", "their", "this", "to",
        "was", "were", "will", "with",
    ]
)

# Derivations Snowball leaves apart but a reader takes as one word: storage/store/stored,
# economic/economy, strategic/strategy. Used for query expansion only.
_DERIVATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("age", ("e",)),
    ("ical", ("y",)),
    ("ic", ("y",)),
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _word_term(word: str) -> str:
    word = re.sub(r"['\u2019]s$", "", word)
    word = word.replace("\u2019", "'")
    return stem(word) if word.isascii() and word.isalpha() else word


def terms(text: str) -> list[str]:
    """Index terms of text, in order (positions matter for phrases)."""
    out: list[str] = []
    for match in _TOKEN.finditer(normalize(text)):
        token = match.group(0)
        if _IS_CJK.match(token):
            out.extend(cjk_bigrams(token))
        else:
            # PostgreSQL refuses lexemes over 2047 bytes; no real word comes near the cap.
            out.append(_word_term(token)[:MAX_TERM_CHARS])
    return out


def index_terms(text: str) -> list[str]:
    """What a document field indexes: its `terms`, then the last character of each CJK run.

    A one-character query matches as a prefix of the bigrams, which finds a character
    anywhere but at the end of a run (池 in 电池); the appended characters cover that
    case. They come after the field's terms so that phrase positions stay as they were.
    """
    tails = [
        run[-1]
        for run in _TOKEN.findall(normalize(text))
        if len(run) > 1 and _IS_CJK.match(run)
    ]
    return terms(text) + tails


def cjk_bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def words(text: str) -> list[str]:
    """Surface words (lower case, Latin script, 3+ letters) for "did you mean"."""
    return [
        token
        for token in _TOKEN.findall(normalize(text))
        if len(token) >= 3 and token.isascii() and token.isalpha() and token not in STOPWORDS
    ]


@dataclass(frozen=True)
class TermQuery:
    """Matches a document holding any one of the alternatives (each a phrase of terms)."""

    alternatives: tuple[tuple[str, ...], ...]
    prefix: bool = False  # the single term is a prefix (a lone CJK character)

    def __post_init__(self) -> None:
        # The engines quote every term; an empty term or a NUL is the one thing quoting
        # cannot carry (PostgreSQL refuses both, FTS5 reads NUL as the end of the query).
        if not self.alternatives or not all(
            sequence and all(term and "\x00" not in term for term in sequence)
            for sequence in self.alternatives
        ):
            raise ValueError(f"not a searchable TermQuery: {self.alternatives!r}")


def word_query(word: str) -> TermQuery | None:
    """A query word: its stem, plus the stems of its close derivations."""
    sequence = tuple(terms(word))
    if not sequence:
        return None
    if len(sequence) == 1 and _IS_CJK.match(sequence[0]) and len(sequence[0]) == 1:
        return TermQuery((sequence,), prefix=True)
    if len(sequence) > 1:
        return TermQuery((sequence,))
    plain = normalize(word).strip()
    if plain in STOPWORDS:
        return None
    alternatives = [sequence]
    if plain.isascii() and plain.isalpha():
        # Derive from the word and from its stem: "stored" -> "store" -> "storage".
        for form in dict.fromkeys((plain, sequence[0])):
            derivations = _DERIVATIONS
            if form.endswith("e") and not form.endswith("age"):
                derivations = (*derivations, ("e", ("age",)))
            for suffix, replacements in derivations:
                base = form[: -len(suffix)]
                if form.endswith(suffix) and len(base) >= 3:
                    for replacement in replacements:
                        variant = (stem(base + replacement),)
                        if variant not in alternatives:
                            alternatives.append(variant)
    return TermQuery(tuple(alternatives))


def phrase_query(text: str) -> TermQuery | None:
    sequence = tuple(terms(text))
    return TermQuery((sequence,)) if sequence else None


def any_phrase_query(texts: Iterable[str]) -> TermQuery | None:
    """Matches a document holding any one of the phrases (an issuing body's names)."""
    alternatives = tuple(dict.fromkeys(s for s in (tuple(terms(t)) for t in texts) if s))
    return TermQuery(alternatives) if alternatives else None
