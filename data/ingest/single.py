"""One brief from pasted text: a policy copied from a web page, or a colleague's note.

Labelled text (`Policy name:`, `At a glance:`, `Date:` ...) parses as a tracker brief does,
labels run together on one line (a Slack message) included.
Text without labels still makes a brief: the first line is its title (with an original
title in brackets split off), the rest its summary, the first full date its date, bodies
the registry knows that the text names its issuing bodies, URLs its links; each guess is
named in a warning, so the add-brief modal can show what to check.
"""

from __future__ import annotations

import re

from ..bodies import bodies_named
from ..models import BriefKind
from .dates import ambiguous_date, parse_date
from .inline_labels import split_inline_labels
from .parser import (
    UNDATED,
    parse_text,
    sentence_goals,
    split_title,
    undated_reason,
)
from .primary import looks_primary, read_primary
from .records import BriefRecord, IssueRecord
from .text import ParseError, join_paragraphs, split_lines

UNLABELLED = "no labels"  # how a brief read from text without labels is named in its warnings
PRIMARY = "a policy document"  # ... and one read as the document itself (primary.py)

_URL = re.compile(r"<?(https?://[^\s<>]+)>?")
_TITLE_MAX = 300
MAX_CHARS = 20_000  # a brief, not a whole issue


def parse_single_brief(text: str, source: str = "pasted text") -> BriefRecord:
    if not text.strip():
        raise ParseError(source, None, "nothing to add: the text is empty")
    if len(text) > MAX_CHARS:
        raise ParseError(
            source, None, f"this is {len(text):,} characters; one brief is at most {MAX_CHARS:,}"
        )
    try:
        issue = parse_text(split_inline_labels(text), source)
    except ParseError:
        return _unlabelled(text, source)
    policy = issue.policy_briefs
    if len(issue.briefs) > 1:
        raise ParseError(
            source,
            None,
            f"this text holds {len(issue.briefs)} briefs; add it as a tracker file instead",
        )
    if policy:
        return policy[0]
    return _unlabelled(text, source)  # one dated line: a note, not a news list


def single_issue(record: BriefRecord, source: str = "pasted text") -> IssueRecord:
    """The brief as an issue of one, for the preview and the writer."""
    return IssueRecord(
        source=source,
        issue_date=record.published_on.replace(day=1) if record.published_on else None,
        briefs=[record],
        warnings=[f"line {record.line}: {w}" for w in record.warnings],
    )


def _unlabelled(text: str, source: str) -> BriefRecord:
    if looks_primary(text):
        # A policy document itself (a notice, a plan): its own name, dateline, bodies and
        # every dated step, as data/ingest/primary.py reads it.
        record = read_primary(text)
        record.warnings.append(PRIMARY + ": the title is the document's own name")
        return record
    lines = [line for line in split_lines(text) if line.text]
    links = list(dict.fromkeys(m[1].rstrip(".,;)") for m in _URL.finditer(text)))
    prose = [line for line in lines if not _URL.fullmatch(line.text)]
    if not prose:
        raise ParseError(source, None, "nothing to add: the text has no words, only links")
    title, original = split_title(prose[0].text.rstrip(":"))
    # join_paragraphs reads an empty string as a known paragraph break.
    summary = join_paragraphs(
        [
            part
            for line in prose[1:]
            for part in ((line.text, "") if line.para_end else (line.text,))
        ]
    )
    published = parse_date(text)
    record = BriefRecord(
        kind=BriefKind.POLICY,
        title=title[:_TITLE_MAX],
        title_original=original,
        line=prose[0].number,
        published_on=published,
        summary=summary,
        links=links,
        bodies=_bodies_named(text),
        goals=sentence_goals(summary or title, published),
    )
    record.labelled = False
    record.warnings.append(UNLABELLED + ": the first line is taken as the title")
    if published is None:
        # An ambiguous "10/11/2024" anywhere in the text is named; other numbers are not dates.
        ambiguous = ambiguous_date(text)
        reason = undated_reason(ambiguous[0]) if ambiguous else "no date"
        record.warnings.append(f"brief {record.title!r} has {reason}{UNDATED}")
    if record.bodies:
        record.warnings.append("issuing bodies read from the text: " + ", ".join(record.bodies))
    else:
        record.warnings.append("no issuing body named")
    return record


def _bodies_named(text: str) -> list[str]:
    """Known bodies the text names (by any name, Chinese ones inside running text too), in
    order of mention."""
    return bodies_named(text)[0]
