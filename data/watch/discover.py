"""What a fetched source points at: the entries of a feed, the document links of a page
that lists documents (a ministry's notice list), or the PDF itself.

A listing page is read as an analyst scans it: the links that lead to documents, not the
site's navigation. A link counts when it stays on the site, is not in a nav, header or
footer, and looks like an article or a file (a path ending in .pdf/.doc, or an article
page whose address carries a number, as government CMSs name them: t20250305_123.html,
content_5678.htm, art_2025_1.html) with link text long enough to be a title. A date
written beside the link in its list item is kept as the document's date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser

from ..ingest.dates import parse_date

MAX_ITEMS = 500  # links taken from one page or feed; a listing is far shorter
MAX_URL_CHARS = 2000  # an item's URL column; a longer one is skipped, not cut
# A feed's or a list's date outside these years is a placeholder (0001-01-01) or a lie
# (9999-12-31: "new" for ever in digests), not a publication date.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100


@dataclass(frozen=True)
class FoundItem:
    url: str
    title: str
    guid: str | None = None
    published_on: date | None = None


class DiscoveryError(Exception):
    """The body is not what its kind says (a feed that is not XML at all)."""


def decode_html(body: bytes, charset: str | None) -> str:
    """An HTML page's text: its declared charset (header, then <meta>), else UTF-8, else
    GB18030 (Chinese government sites still serve GBK pages)."""
    candidates = [charset] if charset else []
    meta = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", body[:4096], re.I)
    if meta:
        candidates.append(meta.group(1).decode("ascii"))
    candidates += ["utf-8", "gb18030"]
    for name in candidates:
        try:
            return body.decode("gb18030" if name.lower() in ("gbk", "gb2312") else name)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def feed_items(
    body: bytes, base_url: str, content_type: str = "application/xml"
) -> list[FoundItem]:
    """A feed's entries, newest as the feed orders them. Malformed XML is read as far as
    it goes; a body with no entries and a parse error is refused."""
    headers = {"content-location": base_url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(body, response_headers=headers)
    entries = list(parsed.get("entries") or [])
    items: list[FoundItem] = []
    for entry in entries[:MAX_ITEMS]:
        link = str(entry.get("link") or "")
        if not link:
            links = entry.get("links") or []
            link = str(links[0].get("href") or "") if links else ""
        if not link:
            continue
        url = urldefrag(urljoin(base_url, link.strip()))[0]
        if urlsplit(url).scheme not in ("http", "https") or len(url) > MAX_URL_CHARS:
            continue  # a script, mail or data link; or one too long to be kept whole
        published = None
        for key in ("published_parsed", "updated_parsed"):
            stamp = entry.get(key)
            if stamp:
                published = _plausible(date(*stamp[:3]))
                break
        guid = str(entry.get("id") or "") or None
        items.append(
            FoundItem(
                url=url,
                title=_clean(str(entry.get("title") or "")),
                guid=guid[:500] if guid else None,
                published_on=published,
            )
        )
    if not items and parsed.get("bozo"):
        # Broken XML that still gave linked entries is read as far as it goes; one that
        # gave none is an error the admin sees.
        reason = parsed.get("bozo_exception")
        raise DiscoveryError(f"the feed is not valid XML ({_short(str(reason))})")
    return items


_DOCUMENT_FILE = re.compile(r"\.(pdf|docx?|wps|ofd)$", re.I)
_ARTICLE_PAGE = re.compile(r"\.(s?html?|jsp|aspx?|php)$", re.I)
_NUMBERED = re.compile(r"\d{3,}")
_SKIPPED_CONTAINERS = frozenset({"nav", "header", "footer", "aside"})
MIN_TITLE_CHARS = 6  # 首页, 关于我们, "Next page": navigation; a document's title is longer


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip_depth = 0  # inside nav/header/footer/aside/script/style
        self.stack: list[str] = []
        self.links: list[tuple[str, str, str]] = []  # href, text, the list item's text
        self._href: str | None = None
        self._text: list[str] = []
        self._item_text: list[str] = []
        self._item_links: list[int] = []  # links of the open list item

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_CONTAINERS or tag in ("script", "style"):
            self.skip_depth += 1
        if tag in ("li", "tr", "dd", "p"):
            self._close_item()
        if tag == "a" and not self.skip_depth:
            self._href = dict(attrs).get("href") or None
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_CONTAINERS or tag in ("script", "style"):
            self.skip_depth = max(0, self.skip_depth - 1)
        if tag == "a" and self._href is not None:
            self._item_links.append(len(self.links))
            self.links.append((self._href, _clean(" ".join(self._text)), ""))
            self._href = None
        if tag in ("li", "tr", "dd", "p"):
            self._close_item()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self._href is not None:
            self._text.append(data)
        self._item_text.append(data)

    def _close_item(self) -> None:
        text = _clean(" ".join(self._item_text))
        for index in self._item_links:
            href, title, _ = self.links[index]
            self.links[index] = (href, title, text)
        self._item_text, self._item_links = [], []

    def close(self) -> None:
        super().close()
        self._close_item()


def _site(host: str) -> str:
    """The site a host belongs to: its last two labels, or three under a country's
    second-level domain (www.miit.gov.cn and miit.gov.cn are one site, ndrc.gov.cn another)."""
    labels = host.lower().split(".")
    if labels and labels[0] == "www":
        labels = labels[1:]
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else 2
    return ".".join(labels[-keep:])


def page_items(body: bytes, charset: str | None, page_url: str) -> list[FoundItem]:
    """The document links of a listing page, in page order, each once."""
    collector = _LinkCollector()
    collector.feed(decode_html(body, charset))
    collector.close()
    page = urlsplit(page_url)
    site = _site(page.hostname or "")
    seen: set[str] = set()
    items: list[FoundItem] = []
    for href, text, item_text in collector.links:
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urldefrag(urljoin(page_url, href.strip()))[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or url.rstrip("/") == page_url.rstrip("/"):
            continue
        if _site(parts.hostname or "") != site or url in seen or len(url) > MAX_URL_CHARS:
            continue
        path = parts.path
        is_file = bool(_DOCUMENT_FILE.search(path))
        is_article = bool(
            _ARTICLE_PAGE.search(path) or not path.rsplit("/", 1)[-1].count(".")
        ) and bool(_NUMBERED.search(path + "?" + parts.query))
        if not (is_file or is_article) or len(text) < MIN_TITLE_CHARS and not is_file:
            continue
        seen.add(url)
        rest = item_text.replace(text, " ", 1) if text else item_text
        items.append(
            FoundItem(
                url=url,
                title=text or path.rsplit("/", 1)[-1],
                published_on=_plausible(parse_date(rest)) if rest.strip() else None,
            )
        )
        if len(items) >= MAX_ITEMS:
            break
    return items


def _plausible(day: date | None) -> date | None:
    return day if day is not None and EARLIEST_YEAR <= day.year <= LATEST_YEAR else None


def _clean(text: str) -> str:
    return " ".join(text.split())[:500]


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."
