"""Labels run together on one line, as a Slack message often arrives: "Article: Test
Issuing body: MIIT Date: 2024-11-07 At a glance: ..." becomes one labelled line each, so
the pasted-text parser reads it as it reads a tracker brief.

Only a line that opens with a label is split, only at the labels a brief has (title,
bodies, date, summary, comment), and each section once: a summary that happens to say
"date:" or "comment:" after its own label stays whole.
"""

from __future__ import annotations

import re

from .labels import match_label

# After whitespace, a label as the tracker family writes it, capitalised ("Date:", not the
# prose "its date:"); a comment's author is up to three capitalised words ("MERICS",
# "Rhodium Group") with no full stop, or the label is a capitalised "Comment:" alone.
_INLINE = re.compile(
    r"(?<=\s)(?:"
    r"(?P<article>(?:A(?i:rticle)|T(?i:itle)|P(?i:olicy (?:name|title))|D(?i:ocument))\s*:)"
    r"|(?P<bodies>I(?i:ssuing\s+bod(?:y|ies)(?:\s*/\s*bod(?:y|ies))?|ssued\s+by)\s*:)"
    r"|(?P<date>D(?i:ate)\s*:)"
    r"|(?P<glance>A(?i:t\s+a\s+glance)\s*:)"
    r"|(?P<comment>(?:[A-Z][\w&\u2019'-]*\s+){1,3}(?i:comment)\s*:|Comment\s*:)"
    r")"
)


def split_inline_labels(text: str) -> str:
    """The text with each label found inside a labelled line moved to a line of its own."""
    seen: set[str] = set()
    lines: list[str] = []
    for line in text.split("\n"):
        opening = match_label(line.strip())
        if opening is None:
            lines.append(line)
            continue
        seen.add(opening[0])
        lines.extend(_split_line(line, seen))
    return "\n".join(lines)


def _split_line(line: str, seen: set[str]) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _INLINE.finditer(line):
        section = match.lastgroup
        if section is None or section in seen or match.start() < start:
            continue
        labelled = match_label(line[match.start() :])
        if labelled is None or labelled[0] != section:
            continue  # labels.py has the last word ("The ministry invited public comment:")
        seen.add(section)
        parts.append(line[start : match.start()].rstrip())
        start = match.start()
    parts.append(line[start:])
    return parts
