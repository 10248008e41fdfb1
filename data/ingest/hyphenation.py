"""Words that the layout split across two lines with a hyphen ("lithi-" / "um battery").

A hyphen at a line's end is either the layout's (the word was broken) or the word's own
("high-" / "quality"). The document decides: the joined word occurring elsewhere in it, or
in a small shipped list, means the layout broke it; the hyphenated form occurring elsewhere,
or two parts that are both words, means a real compound. Fragments that are neither
("manufac-" / "turing" in a file that never writes the word whole) are joined too.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..search.analysis import stem
from .common_words import COMMON_WORDS
from .text import Line

_WORD = re.compile(r"[A-Za-z]+(?:[-\u2010\u2011][A-Za-z]+)*")
_BROKEN_END = re.compile(r"([A-Za-z]+)[-\u2010\u2011\u00ad]$")
_HYPHENS = ("-", "\u2010", "\u2011", "\u00ad")
_NEXT_START = re.compile(r"^([a-z]+)(.*)$", re.S)
# Parts that open compounds rather than words ("non-ferrous", "e-commerce", "self-reliance").
_PREFIXES = frozenset(
    {"non", "self", "cross", "multi", "anti", "post", "pre", "semi", "sub", "co", "ex", "mid",
     "well", "low", "high", "long", "short", "large", "small", "medium", "state", "world",
     "inter", "intra", "ultra", "micro", "macro", "near", "all", "half", "full", "open"}
)  # fmt: skip


class Vocabulary:
    """The words and hyphenated compounds a document uses within its lines."""

    def __init__(self, lines: list[Line]) -> None:
        # One pass over the whole text; a fragment before a line-end hyphen is no word.
        text = "\n".join(
            _BROKEN_END.sub("", line.text) if line.text.endswith(_HYPHENS) else line.text
            for line in lines
        ).lower()
        tokens = set(_WORD.findall(text))
        self.compounds = {re.sub("[\u2010\u2011]", "-", t) for t in tokens if not t.isalpha()}
        self.words = {t for t in tokens if t.isalpha()}
        for compound in self.compounds:
            self.words.update(compound.split("-"))
        self._stems: set[str] | None = None  # built on the first broken word only

    def is_word(self, word: str) -> bool:
        word = word.lower()
        if word in self.words or word in COMMON_WORDS:
            return True
        if self._stems is None:
            self._stems = {stem(w) for w in self.words | COMMON_WORDS}
        return stem(word) in self._stems

    def is_compound(self, left: str, right: str) -> bool:
        return f"{left}-{right}".lower() in self.compounds


def layout_broke(vocabulary: Vocabulary, left: str, right: str) -> bool:
    """Whether "left-" at a line end + "right" is one word the layout split."""
    if vocabulary.is_compound(left, right):
        return False
    if vocabulary.is_word(left + right):
        return True
    if len(left) == 1 or left.lower() in _PREFIXES:
        return False
    return not (vocabulary.is_word(left) and vocabulary.is_word(right))


def repair_hyphenation(lines: list[Line]) -> list[Line]:
    """Join words broken across lines; the joined word ends the first line."""
    if not any(line.text.endswith(_HYPHENS) for line in lines):
        return lines
    vocabulary = Vocabulary(lines)
    out = list(lines)
    for index in range(len(out) - 1):
        current, following = out[index], out[index + 1]
        if not current.text.endswith(_HYPHENS):
            continue
        end = _BROKEN_END.search(current.text)
        start = _NEXT_START.match(following.text)
        if end is None or start is None or following.bullet or current.para_end:
            continue
        if re.search(r"[/.@:_]", current.text.rsplit(" ", 1)[-1]):
            continue  # a URL or path the layout wrapped: not a word
        left, right = end[1], start[1]
        if not layout_broke(vocabulary, left, right):
            continue
        rest = start[2].lstrip()
        out[index] = replace(current, text=current.text[: end.start()] + left + right)
        if rest:
            out[index + 1] = replace(following, text=rest)
        else:
            out[index] = replace(out[index], para_end=following.para_end)
            out[index + 1] = replace(following, text="")
    return [line for line in out if line.text]
