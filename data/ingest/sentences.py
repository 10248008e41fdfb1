"""Sentence splitting for brief text, aware of the abbreviations trackers use."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?\u3002])\s+(?=[A-Z\"\u201c(])")
_ABBREVIATION_END = re.compile(
    r"(?:\b[A-Z]|\b(?:Co|Corp|Inc|Ltd|No|Nos|Mr|Mrs|Ms|Dr|St|vs|approx|e\.g|i\.e))\.$"
)


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for piece in _SENTENCE_END.split(text):
        if out and _ABBREVIATION_END.search(out[-1]):
            out[-1] += " " + piece  # "U.S. Treasury", "Co. (CNY 64 billion)"
        else:
            out.append(piece)
    return [s.strip() for s in out if s.strip()]


def first_sentence(text: str) -> str:
    found = sentences(text)
    return found[0] if found else text


def last_sentence(text: str) -> str:
    found = sentences(text.replace("\n", " "))
    return found[-1] if found else text
