"""Page furniture: running headers and footers, found by repetition across pages.

A line is furniture when its shape (digits folded, so "Tracker | 5" and "Tracker | 6" are
one shape) sits at the top or bottom of many pages. Text without page breaks (a form feed
marks one; PDF extraction adds them) has no pages to compare, so there a short line whose
shape recurs throughout the file and carries a page-like number is taken instead.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from .labels import LABELS, LINKS_LABEL

PAGE_BREAK = "\f"
_EDGE_LINES = 3  # how far from a page's top or bottom a running header or footer sits
_MAX_LENGTH = 90
_DIGITS = re.compile(r"\d+")
_URL = re.compile(r"^<?(?:https?://|www\.)", re.I)
# Without pages, only lines that look like a header or footer count: a number after a
# separator ("Tracker | 5", "Page 3 of 9"), or a bare "| 7".
_PAGE_LIKE = re.compile(
    r"(?:[|\u2022\u00b7\u2013\u2014/-]\s*#\s*$|^#\s*[|\u2022\u00b7/]|\bpage\s+#)", re.I
)


def shape(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split())).casefold()


def _could_be_furniture(line: str) -> bool:
    text = line.strip()
    if not text or len(text) > _MAX_LENGTH or _URL.match(text) or LINKS_LABEL.match(text):
        return False
    return not any(pattern.match(text) for pattern in LABELS.values())


def furniture_shapes(text: str) -> set[str]:
    """The shapes of the lines that are page furniture in `text`."""
    pages = [
        [line for line in page.splitlines() if line.strip()] for page in text.split(PAGE_BREAK)
    ]
    pages = [page for page in pages if page]
    if len(pages) >= 2:
        counts: Counter[str] = Counter()
        for page in pages:
            edges = page[:_EDGE_LINES] + page[-_EDGE_LINES:]
            counts.update({shape(line) for line in edges if _could_be_furniture(line)})
        needed = max(2, math.ceil(0.5 * len(pages)))
        return {form for form, count in counts.items() if count >= needed}
    lines = [line for line in text.splitlines() if _could_be_furniture(line)]
    counts = Counter(shape(line) for line in lines)
    return {form for form, count in counts.items() if count >= 3 and _PAGE_LIKE.search(form)}
