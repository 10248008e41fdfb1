"""Text analysis shared by both search engines, so SQLite and PostgreSQL match alike.

Documents and queries go through the same steps in Python: NFKC, case folding, British
spellings to American ones (standardisation -> standardization, centre -> center, labour ->
labor), dotted acronyms joined (A.I. -> ai, U.S. -> us), English (Snowball) stemming of Latin words, and overlapping bigrams for runs of CJK
characters, so two-character Chinese words (储能, 电池) are whole index terms. Hyphenated
words are indexed both ways: "e-commerce" holds the terms "e", "commerc" and "ecommerc".
User text never reaches any query syntax: the index is ours (data/search/index.py).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+(?:['\u2019][^\W\d_{_CJK}]+)?")
_IS_CJK = re.compile(f"[{_CJK}]")
_STEMMER = snowballstemmer.stemmer("english")
# The stemmer keeps the word being stemmed in itself: two threads at once corrupt each other.
_STEMMER_LOCK = threading.Lock()

MAX_TERM_CHARS = 200

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
    ]
)

# Derivations Snowball leaves apart but a reader takes as one word: storage/store/stored,
# economic/economy, strategic/strategy. Used for query expansion only.
_DERIVATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("age", ("e",)),
    ("ical", ("y",)),
    ("ic", ("y",)),
)


# Bumped whenever `terms` would analyse a text differently: stored documents of an older
# analysis are analysed again from their briefs (see data/search/documents.py).
ANALYSIS_VERSION = 4

# British -> American endings, tried in order on a whole (lower-case) word. Applied to
# documents and queries alike, so a rule that also catches a word with no American twin
# ("enterprise" -> "enterprize") only renames it on both sides.
_SPELLING_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=\w{3})isation(s?)$"), r"ization\1"),
    (re.compile(r"(?<=\w{3})is(e|ed|es|ing|er|ers)$"), r"iz\1"),
    (re.compile(r"(?<=\w{2})ys(e|ed|es|ing)$"), r"yz\1"),
    (re.compile(r"(?<=\w{3})our(s|ed|ing|ful|able|ite|ites)?$"), r"or\1"),
    (re.compile(r"(?<=\w{2}[^aeiou])(t|b)re(s?)$"), r"\1er\2"),
    (re.compile(r"(?<=\w{3})ogue(s?)$"), r"og\1"),
)
_SPELLING_WORDS = {
    "licence": "license",
    "licences": "licenses",
    "defence": "defense",
    "offence": "offense",
    "programme": "program",
    "programmes": "programs",
    "aluminium": "aluminum",
    "tyre": "tire",
    "tyres": "tires",
    "grey": "gray",
    "cheque": "check",
    "modelling": "modeling",
    "labelling": "labeling",
    "labelled": "labeled",
    "travelling": "traveling",
    "fuelled": "fueled",
    "fulfil": "fulfill",
    "enrolment": "enrollment",
    "sulphur": "sulfur",
    "liquified": "liquefied",
    "liquify": "liquefy",
    "liquifies": "liquefies",
    "liquifying": "liquefying",
}
# Words the rules must leave alone (the American spelling is the same, or another word).
_SPELLING_KEEP = frozenset(
    {
        "our",
        "hour",
        "hours",
        "four",
        "your",
        "yours",
        "tour",
        "tours",
        "pour",
        "sour",
        "flour",
        "devour",
        "detour",
        "contour",
        "contours",
        "glamour",
        "paramour",
        "troubadour",
    }
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    with _STEMMER_LOCK:
        return str(_STEMMER.stemWord(american(word)))


def american(word: str) -> str:
    """The American spelling of a lower-case word (the word itself if it has none)."""
    if word in _SPELLING_KEEP or len(word) < 5:
        return word
    if word in _SPELLING_WORDS:
        return _SPELLING_WORDS[word]
    for pattern, replacement in _SPELLING_RULES:
        changed, count = pattern.subn(replacement, word)
        if count:
            return changed
    return word


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


# Dotted acronyms are one word: "A.I." is "ai", "U.S." is "us" (not the letters a and i,
# which would find "i.e.").
_DOTTED_ACRONYM = re.compile(r"(?<![a-z0-9])[a-z](?:\.[a-z])+\.?(?![a-z0-9])")


def _join_acronyms(normalized: str) -> str:
    return _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), normalized)


# Cached: a corpus repeats its words, and indexing a brief analyses every word of it.
@lru_cache(maxsize=65536)
def _word_term(word: str) -> str:
    word = re.sub(r"['\u2019]s$", "", word)
    word = word.replace("\u2019", "'")
    return stem(word) if word.isascii() and word.isalpha() else word


# A word's term by the word as the text spells it: indexing a brief looks up every word,
# and a dictionary lookup costs a fraction of the cached function's call.
_TERM_OF_WORD: dict[str, str] = {}
_TERM_OF_WORD_MAX = 65536


def terms(text: str) -> list[str]:
    """Index terms of text, in order (positions matter for phrases)."""
    return _terms_of_normalized(normalize(text))


def _terms_of_normalized(normalized: str) -> list[str]:
    out: list[str] = []
    known = _TERM_OF_WORD.get
    for token in _TOKEN.findall(_join_acronyms(normalized)):
        term = known(token)
        if term is None:
            if _IS_CJK.match(token):
                out.extend(cjk_bigrams(token))
                continue
            # PostgreSQL refuses lexemes over 2047 bytes; no real word comes near the cap.
            term = _word_term(token)[:MAX_TERM_CHARS]
            if len(_TERM_OF_WORD) >= _TERM_OF_WORD_MAX:
                _TERM_OF_WORD.clear()
            _TERM_OF_WORD[token] = term
        out.append(term)
    return out


_HYPHENATED = re.compile(r"\b([^\W\d_]+)(?:[-\u2010\u2011](?=[^\W\d_]))([^\W\d_]+)\b")
_HYPHEN = re.compile("[-\u2010\u2011]")
# The CJK tokens of `_TOKEN` are exactly the longest runs of CJK characters.
_CJK_RUN = re.compile(f"[{_CJK}]{{2,}}")


def index_terms(text: str) -> list[str]:
    """What a document field indexes: its `terms`, then the last character of each CJK run
    and the joined form of each hyphenated word ("e-commerce" -> "ecommerc").

    A one-character query matches as a prefix of the bigrams, which finds a character
    anywhere but at the end of a run (池 in 电池); the appended characters cover that
    case. They come after the field's terms so that phrase positions stay as they were.
    """
    normalized = normalize(text)
    tails = [run[-1] for run in _CJK_RUN.findall(normalized)]
    joined = (
        [stem(m[1] + m[2]) for m in _HYPHENATED.finditer(normalized) if (m[1] + m[2]).isascii()]
        if _HYPHEN.search(normalized)  # most text has none; the full pattern is slow to scan
        else []
    )
    return _terms_of_normalized(normalized) + tails + joined


def joined_hyphen_term(word: str) -> str | None:
    """The one term a hyphenated query word also matches: "e-commerce" -> "ecommerc"."""
    match = _HYPHENATED.fullmatch(normalize(word))
    if match is None or not (match[1] + match[2]).isascii():
        return None
    return stem(match[1] + match[2])


def token_matches(text: str) -> Iterator[re.Match[str]]:
    """The words of raw text as the analysis splits them, with their places in it."""
    return _TOKEN.finditer(text)


def is_cjk(token: str) -> bool:
    return bool(_IS_CJK.match(token))


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


def distinct_words(text: str) -> set[str]:
    """The set of `words(text)`, each distinct token tested once."""
    return {
        token
        for token in set(_TOKEN.findall(normalize(text)))
        if len(token) >= 3 and token.isascii() and token.isalpha() and token not in STOPWORDS
    }


@dataclass(frozen=True)
class TermQuery:
    """Matches a document holding any one of the alternatives (each a phrase of terms)."""

    alternatives: tuple[tuple[str, ...], ...]
    prefix: bool = False  # the single term is a prefix (a lone CJK character, `word*`)
    # Per alternative, how much a match counts (1: the word itself; less: a synonym from
    # the thesaurus). Empty: every alternative counts in full.
    weights: tuple[float, ...] = ()
    # The word or phrase as the user typed it (for messages; not part of what matches).
    label: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # The engines quote every term; an empty term or a NUL is the one thing quoting
        # cannot carry (PostgreSQL refuses both, FTS5 reads NUL as the end of the query).
        if not self.alternatives or not all(
            sequence and all(term and "\x00" not in term for term in sequence)
            for sequence in self.alternatives
        ):
            raise ValueError(f"not a searchable TermQuery: {self.alternatives!r}")
        if self.weights and len(self.weights) != len(self.alternatives):
            raise ValueError("one weight per alternative")


def prefix_query(word: str) -> TermQuery | None:
    """`manuf*`: any term that starts with the word (at least two letters)."""
    base = normalize(word.rstrip("*")).strip()
    if len(base) < 2 or not _TOKEN.fullmatch(base):
        return None
    return TermQuery(((base,),), prefix=True, label=word)


def word_query(word: str) -> TermQuery | None:
    """A query word: its stem, plus the stems of its close derivations."""
    sequence = tuple(terms(word))
    if not sequence:
        return None
    joined = joined_hyphen_term(word)
    if joined is not None and len(sequence) > 1:
        return TermQuery((sequence, (joined,)), label=word)
    if len(sequence) == 1 and _IS_CJK.match(sequence[0]) and len(sequence[0]) == 1:
        return TermQuery((sequence,), prefix=True)
    if len(sequence) > 1:
        return TermQuery((sequence,))
    plain = _join_acronyms(normalize(word)).strip(" .")
    if plain in STOPWORDS or (len(plain) == 1 and plain.isascii() and plain.isalpha()):
        return None  # a lone letter finds every "a" and "i." in the corpus
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
