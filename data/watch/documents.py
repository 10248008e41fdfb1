"""A fetched document as an issue the writer stores: the same reading as an upload or a
pasted text (data/ingest), so a watched source's document is a brief like any other.

- A PDF goes through the PDF path (read in a child process): a tracker issue is
  recognised as when uploaded; any other PDF (a ministry's plan) is one brief from its text.
- An HTML document's main text (without the site's menus and footers) is read as pasted
  text is; its title is the page's own, else the title the feed or listing gave it.
- The document's URL is the brief's source link; a date the feed or listing gave is used
  when the text names none.

Reading happens outside any transaction: fetching and parsing never hold the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from ..fetch import Fetched
from ..ingest.html import page_text
from ..ingest.isolation import read_pdf_text
from ..ingest.parser import parse_bytes, parse_text
from ..ingest.records import BriefRecord, IssueRecord
from ..ingest.single import MAX_CHARS, parse_single_brief
from ..ingest.text import ParseError, decode
from ..sources import official_first
from .discover import decode_html


@dataclass(frozen=True)
class DocumentHints:
    """What the source said about the document before it was fetched."""

    title: str = ""
    published_on: date | None = None


def document_name(url: str) -> str:
    """How a fetched document is named as a source file: its host and path."""
    parts = urlsplit(url)
    return f"{parts.hostname or ''}{parts.path}"[:500] or url[:500]


def read_document(fetched: Fetched, hints: DocumentHints) -> IssueRecord:
    """The fetched document as an issue (one brief, or a tracker issue's briefs); a
    ParseError when it holds nothing to store."""
    source = fetched.url
    kind = fetched.kind
    if kind == "pdf":
        try:
            issue = parse_bytes(fetched.body, source)  # a tracker issue, read as uploaded
            _link_all(issue, source)
            return issue
        except ParseError as error:
            if "no briefs found" not in error.message:
                raise  # refused by the PDF reader's limits, or unreadable: said as it is
        text = read_pdf_text(fetched.body, source)
        return _one_brief(hints.title, text, source, hints)
    if kind == "html":
        title, text = page_text(decode_html(fetched.body, fetched.charset), source)
        if not text:
            raise ParseError(source, None, "the page has no main text I could find")
        return _one_brief(title or hints.title, text, source, hints)
    if kind == "text":
        return _one_brief(hints.title, decode(fetched.body, source), source, hints)
    raise ParseError(source, None, f"a {kind} is not a document")


def _one_brief(title: str, text: str, source: str, hints: DocumentHints) -> IssueRecord:
    body = text.strip()
    first_line = body.splitlines()[0].strip() if body else ""
    if title and title not in first_line:
        body = f"{title}\n\n{body}"
    body = body[:MAX_CHARS]
    try:
        record = parse_single_brief(body, source)
    except ParseError as error:
        if "add it as a tracker file" not in error.message:
            raise
        issue = parse_text(body, source)  # a newsletter as a web page: its briefs
        _link_all(issue, source)
        return issue
    _finish(record, source, hints)
    return IssueRecord(
        source=document_name(source),
        # A standalone document is as new as its own date (data/novelty.py).
        issue_date=record.published_on,
        briefs=[record],
        warnings=[f"line {record.line}: {w}" for w in record.warnings],
    )


def _finish(record: BriefRecord, source: str, hints: DocumentHints) -> None:
    if record.published_on is None and hints.published_on is not None:
        record.published_on = hints.published_on
        record.warnings.append("date taken from the source's listing")
    record.links = official_first(list(dict.fromkeys([source, *record.links])))


def _link_all(issue: IssueRecord, source: str) -> None:
    """A tracker issue fetched from the web: named by its URL."""
    issue.source = document_name(source)
