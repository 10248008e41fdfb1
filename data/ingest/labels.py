"""The section labels of a tracker brief, in the spellings the newsletter family uses.

Titles: `Article:`, `Policy name:`, `Title:`, `Document:`; bodies: `Issuing body/bodies:`,
`Issued by:`, `Issuing authority:`; comments: `<Org> comment:`, `Comment:`, `<Org>
analysis:` (the organisation is the comment's author); dates: `Date:`, `Published:` ...
"""

from __future__ import annotations

import re

_WORD = r"[\w&.\u2019'-]+\s+"
LABELS: dict[str, re.Pattern[str]] = {
    "glance": re.compile(r"^(?:at a glance|in brief|in short|summary|overview)\s*:\s*", re.I),
    "comment": re.compile(
        rf"^(?P<author>(?:{_WORD}){{0,3}}?)(?:comments?|assessment|analysis)\s*:\s*",
        re.I,
    ),
    "article": re.compile(
        r"^(?:(?:original|source|policy|english|document|full)\s+)?"
        r"(?:articles?|documents?|titles?)\s*:\s*"
        r"|^(?:policy|document|official)\s+(?:name|title)\s*:\s*"
        r"|^name of (?:the )?(?:policy|document)\s*:\s*",
        re.I,
    ),
    "bodies": re.compile(
        r"^(?:issuing\s+(?:bod(?:y|ies)(?:\s*/\s*bod(?:y|ies))?|authorit(?:y|ies)|agenc(?:y|ies)"
        r"|departments?|institutions?)|(?:issued|released|published)\s+by|issuers?"
        r"|bod(?:y|ies))\s*:\s*",
        re.I,
    ),
    "date": re.compile(
        r"^(?:date|dated|date of (?:issue|publication|release)|(?:issue|publication|release)"
        r"\s+date|(?:published|issued|released)(?:\s+on)?)\s*:\s*",
        re.I,
    ),
}
# "Links:" / "Sources:" may introduce a URL block; the URLs themselves carry the meaning.
LINKS_LABEL = re.compile(r"^(?:links?|sources?|urls?|references?|further reading)\s*:\s*", re.I)
# Sections only a brief's first label can open; "Issuing body:"/"Date:" after an inline
# URL block still belong to the brief.
OPENING = ("glance", "comment", "article")
# Words before "comment:" that name no one ("Our comment:", "Analyst comment:").
_ANONYMOUS = frozenset(
    {"our", "the", "analyst", "analysts", "analyst's", "editor", "editor's", "editorial",
     "expert", "short", "brief", "additional", "further", "tracker", "my", "policy"}
)  # fmt: skip


def match_label(text: str) -> tuple[str, str, re.Match[str]] | None:
    """(section name, text after the label, the match) for a labelled line."""
    for name, pattern in LABELS.items():
        match = pattern.match(text)
        if match:
            if name == "comment" and not _plausible_author(match["author"]):
                continue
            return name, text[match.end() :], match
    return None


def _plausible_author(words: str) -> bool:
    """An author is a name ("MERICS", "Rhodium Group"), not a sentence that happens to end
    in "comment:" ("The ministry invited public comment:")."""
    parts = words.split()
    if not parts:
        return True
    if all(p.lower().strip(".") in _ANONYMOUS for p in parts):
        return True
    return all(p[:1].isupper() or p[:1].isdigit() or p in ("&", "and", "of") for p in parts)


def comment_author(match: re.Match[str]) -> str | None:
    """The organisation a comment label names: "MERICS comment:" -> "MERICS"."""
    words = [w for w in match["author"].split() if w.lower().strip(".") not in _ANONYMOUS]
    author = " ".join(words).strip()
    if author.endswith(("'s", "\u2019s")):
        author = author[:-2]
    return author or None
