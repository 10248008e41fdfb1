"""The main text of an HTML policy page (a ministry's notice, a news page about a plan),
Chinese included, without the site's menus, footers and related-links lists.

trafilatura does the extraction (a maintained boilerplate remover with date and title
metadata); the page's title and date, when it gives them, head the text as the document
reader (primary.py) reads them: the title as the first line, the date as a
"发布时间：" line. The watched-source poller reads its pages with `page_text`, which skips
the date guessing (the document's text or its listing dates it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser

from .primary import read_primary
from .records import BriefRecord

MAX_HTML_CHARS = 5_000_000  # a notice page is far smaller; past this the page is not one
DATE_LABEL = "发布时间："
MIN_MAIN_TEXT = 80  # characters: less than this is a page without its document


@dataclass(frozen=True)
class Page:
    text: str  # the main text, paragraphs on lines of their own
    title: str | None
    published_on: date | None


def read_page(html: str, url: str) -> Page:
    """The page's main text and, where the extractor finds them, its title and date."""
    import trafilatura  # imported when first needed: it loads lxml and its models

    document = trafilatura.bare_extraction(
        html[:MAX_HTML_CHARS],
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_recall=True,  # a notice's short lines (signatures, dates) are part of it
        date_extraction_params={"extensive_search": True, "original_date": True},
    )
    if document is None:
        return Page("", None, None)
    text = (getattr(document, "text", None) or "").strip()
    title = " ".join((getattr(document, "title", None) or "").split()) or None
    raw_date = getattr(document, "date", None)
    published: date | None = None
    if raw_date:
        try:
            published = date.fromisoformat(str(raw_date)[:10])
        except ValueError:
            published = None
    return Page(text, title, published)


def main_text(html: str, url: str) -> str:
    """The page's main text, its title as the first line and its date on a line of its own
    (when the extractor gives them and the text does not already hold them)."""
    return _text_of(read_page(html, url))


def _text_of(page: Page) -> str:
    head: list[str] = []
    first_line = page.text.split("\n", 1)[0].strip()
    if page.title and page.title != first_line:
        head.append(page.title)
    if page.published_on is not None:
        head.append(f"{DATE_LABEL}{page.published_on.isoformat()}")
    return "\n".join([*head, page.text]).strip()


def brief_from_html(html: str, url: str) -> BriefRecord:
    """The brief an analyst would write from a policy page: its main text read as the
    document (primary.py), the page's URL as the source link, its date for a dateline
    that gives no year."""
    page = read_page(html, url)
    return read_primary(_text_of(page), url=url, page_date=page.published_on)


def page_text(html: str, url: str) -> tuple[str, str]:
    """(title, main text) of a fetched page, quickly: the watched-source poller's reader.
    `read_page` below also asks the extractor for the page's date, which costs about a
    second a page (and 16 s for the first, loading dateparser's locales)."""
    import trafilatura  # imported when first needed: it loads lxml and its models

    # No metadata extraction: its date guessing (htmldate, dateparser) costs a second a
    # page, and the brief's date is read from the text as for a pasted document.
    # `fast` skips the second opinions (jusText, readability) that cost most of the time;
    # they are asked only when the main pass finds next to nothing.
    text = ""
    for fast in (True, False):
        text = (
            trafilatura.extract(
                html, url=url, include_comments=False, include_tables=True, fast=fast
            )
            or ""
        ).strip()
        if len(text) >= MIN_MAIN_TEXT:
            break
    return _page_title(html), text


class _TitleReader(HTMLParser):
    """The page's first <h1>, else its <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1: list[str] = []
        self.title: list[str] = []
        self._in: str | None = None
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "title") and not self.done:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self.done = self.done or (tag == "h1" and bool("".join(self.h1).strip()))
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h1":
            self.h1.append(data)
        elif self._in == "title":
            self.title.append(data)


def _page_title(html: str) -> str:
    reader = _TitleReader()
    reader.feed(html[:200_000])
    title = "".join(reader.h1).strip() or "".join(reader.title).strip()
    return " ".join(title.split())[:300]
