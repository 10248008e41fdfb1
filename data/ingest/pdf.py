"""Text out of a tracker PDF, page by page, with PDFium (pypdfium2).

Chosen by measured fidelity on generated trackers with Chinese titles (benchmarks/
pdf_extractors.py): PDFium gave every line exactly, bullets and CJK included, also with
word-by-word placed (justified) text, and was the fastest; pypdf's layout mode came close,
pdfminer.six/pdfplumber dropped bullets and split lines. Pages are joined with form feeds,
so that page furniture can be found by repetition across pages (furniture.py).

Two things the text alone does not carry are read too:
- Link annotations: a tracker's "(Link)" after a title is a clickable rectangle whose URL
  (the official document) is printed nowhere. Each is returned with the line of the text
  it sits on, so the parser can give it to the brief whose text holds that line.
- Glyphs PDFium cannot read: a font without a Unicode map (reportlab's STSong-Light CID
  font for a single character, as many iText-made PDFs have) gives text objects with no
  text, and characters vanish ("到2027年" -> "2027", "2024年12月10日" -> "2024 12 10"),
  dates and deadlines with them. Such a page is read again by a second extractor (pypdf),
  and the characters only it found are put into PDFium's text; where that cannot be done
  the page is named in a warning.
"""

from __future__ import annotations

import ctypes
import difflib
import io
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pypdfium2
import pypdfium2.raw as pdfium_c

from .furniture import PAGE_BREAK
from .text import ParseError

PDF_MAGIC = b"%PDF-"
MAX_PAGES = 2000
# PDFium is not thread-safe (pypdfium2's documentation says so); uploads handled on a
# worker pool must take turns.
_PDFIUM_LOCK = threading.Lock()
# A line gap this many times the usual spacing ends a paragraph; a much wider one sets
# apart a region of the page (a footer, a header), not a paragraph.
_PARAGRAPH_GAP = (1.35, 2.5)
# PDFium joins a line that ends in a hyphen to the next, marking the hyphen U+FFFE (or
# U+0002). The line break is put back: whether the hyphen belongs to the word is for
# hyphenation.py to decide, with the whole document's words.
_HYPHEN_MARKS = re.compile("[\ufffe\x02]")
# Where a link annotation sits, marked in the page's text while lines are laid out: a
# character of Supplementary Private Use Area-B per link (the link's number), which no
# extraction produces; removed before the text is parsed.
_MARK_BASE = 0x100000
_MARKS = re.compile("[\U00100000-\U0010fffd]")
_MAX_URL = 4096
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PdfLink:
    line: int  # the 1-based line of the extracted text the link's rectangle sits on
    url: str


@dataclass
class PdfText:
    text: str
    links: list[PdfLink] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Page:
    text: str
    unreadable: int  # text runs PDFium could not turn into text


SecondExtractor = Callable[[bytes, Sequence[int]], dict[int, str]]


class TextBudgetExceeded(ParseError):
    """The text passed the caller's `max_text_bytes` (UTF-8): reading stopped there."""


def is_pdf(raw: bytes) -> bool:
    return raw[:1024].lstrip().startswith(PDF_MAGIC)


def pdf_extract(raw: bytes, source: str, max_text_bytes: int | None = None) -> PdfText:
    """The PDF's text (pages separated by form feeds), its link annotations by line, and
    warnings about text that could not be read; past `max_text_bytes` of text (UTF-8),
    TextBudgetExceeded."""
    urls: list[str] = []
    with _PDFIUM_LOCK:
        pages = _extract(raw, source, urls, max_text_bytes)
    if not any(page.text.strip() for page in pages):
        raise ParseError(
            source,
            None,
            "this PDF has no text layer (a scan?); run it through OCR, or ingest the text",
        )
    warnings = _repair(raw, pages)
    text = PAGE_BREAK.join(page.text.replace(PAGE_BREAK, "\n") for page in pages)
    links: list[PdfLink] = []
    for mark in _MARKS.finditer(text):
        # A line as str.splitlines counts them, the way the parser numbers lines.
        line = len((text[: mark.start()] + "x").splitlines())
        links.append(PdfLink(line, urls[ord(mark[0]) - _MARK_BASE]))
    return PdfText(_MARKS.sub("", text), links, warnings)


def pdf_pages(raw: bytes, source: str) -> list[str]:
    """The text of each page (link marks removed)."""
    return pdf_extract(raw, source).text.split(PAGE_BREAK)


def _extract(
    raw: bytes, source: str, urls: list[str], max_text_bytes: int | None = None
) -> list[_Page]:
    try:
        document = pypdfium2.PdfDocument(raw)
    except pypdfium2.PdfiumError as exc:
        raise ParseError(
            source, 1, f"cannot read this PDF ({exc}); it may be damaged or password-protected"
        ) from exc
    try:
        if len(document) > MAX_PAGES:
            raise ParseError(
                source, None, f"this PDF has {len(document)} pages; the limit is {MAX_PAGES}"
            )
        pages: list[_Page] = []
        for index in range(len(document)):
            page = document[index]
            try:
                text_page = page.get_textpage()
                try:
                    text = _marked_text(document, page, text_page, urls)
                    unreadable = _unreadable_runs(page, text_page, text)
                    pages.append(_Page(_page_text(text_page, text), unreadable))
                finally:
                    text_page.close()
            finally:
                page.close()
            if max_text_bytes is not None:
                max_text_bytes -= len(pages[-1].text.encode("utf-8"))
                if max_text_bytes < 0:
                    raise TextBudgetExceeded(source, None, "the text passed its budget")
    except pypdfium2.PdfiumError as exc:
        raise ParseError(source, None, f"cannot read this PDF's text ({exc})") from exc
    finally:
        document.close()
    return pages


def _marked_text(
    document: pypdfium2.PdfDocument,
    page: pypdfium2.PdfPage,
    text_page: pypdfium2.PdfTextPage,
    urls: list[str],
) -> str:
    """The page's text with a mark where each web link annotation sits (its URL appended
    to `urls`, the mark saying which)."""
    text = str(text_page.get_text_range())
    marks: list[tuple[int, str]] = []
    position = ctypes.c_int(0)
    link = pdfium_c.FPDF_LINK()
    while pdfium_c.FPDFLink_Enumerate(page.raw, ctypes.byref(position), ctypes.byref(link)):
        url = _link_url(document, link)
        if url is None:
            continue
        rect = pdfium_c.FS_RECTF()
        if not pdfium_c.FPDFLink_GetAnnotRect(link, ctypes.byref(rect)):
            continue
        index = text_page.get_index(
            (rect.left + rect.right) / 2,
            (rect.top + rect.bottom) / 2,
            abs(rect.right - rect.left) / 2,
            abs(rect.top - rect.bottom) / 2,
        )
        if index is None:
            continue  # a link over no text (an image, a blank area)
        offset = len(text_page.get_text_range(0, index)) if index else 0
        marks.append((min(offset, len(text)), chr(_MARK_BASE + len(urls))))
        urls.append(url)
    for offset, mark in sorted(marks, reverse=True):
        text = text[:offset] + mark + text[offset:]
    return text


def _link_url(document: pypdfium2.PdfDocument, link: object) -> str | None:
    action = pdfium_c.FPDFLink_GetAction(link)
    if not action or pdfium_c.FPDFAction_GetType(action) != pdfium_c.PDFACTION_URI:
        return None
    size = int(pdfium_c.FPDFAction_GetURIPath(document.raw, action, None, 0))
    if size <= 1 or size > _MAX_URL:
        return None
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFAction_GetURIPath(document.raw, action, buffer, size)
    url = buffer.value.decode("utf-8", "replace").strip()
    return url if url.lower().startswith(("http://", "https://")) else None


def _unreadable_runs(page: pypdfium2.PdfPage, text_page: pypdfium2.PdfTextPage, text: str) -> int:
    """Text objects PDFium gives no text for, plus the replacement characters it puts for
    glyphs without a Unicode mapping: text the page shows that its extraction lacks.
    (Asking PDFium about each character's mapping tripled the extraction's time; an
    unmapped glyph surfaces as one of these two.)"""
    empty = 0
    # The page's own objects through the C API: pypdfium2's object wrappers cost more
    # than the whole extraction.
    raw_page, raw_text = page.raw, text_page.raw
    for index in range(pdfium_c.FPDFPage_CountObjects(raw_page)):
        obj = pdfium_c.FPDFPage_GetObject(raw_page, index)
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_TEXT:
            continue
        # The length in bytes of its UTF-16 text, terminator included: 2 is no text.
        if pdfium_c.FPDFTextObj_GetText(obj, raw_text, None, 0) <= 2:
            empty += 1
    return empty + text.count("\ufffd")


def _pypdf_pages(raw: bytes, indexes: Sequence[int]) -> dict[int, str]:
    """The second extractor: pypdf's layout text of the given pages (those it fails on
    are left out)."""
    import pypdf  # only for the rare damaged page: not loaded otherwise

    found: dict[int, str] = {}
    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        for index in indexes:
            try:
                found[index] = reader.pages[index].extract_text(extraction_mode="layout")
            except Exception as exc:  # a second opinion: its failure is not the file's
                log.info("pypdf could not read page %d: %s", index + 1, type(exc).__name__)
    except Exception as exc:
        log.info("pypdf could not open the PDF: %s", type(exc).__name__)
    return found


# Tests set this to None to see what happens where no second extractor helps.
SECOND_EXTRACTOR: SecondExtractor | None = _pypdf_pages


def _repair(raw: bytes, pages: list[_Page]) -> list[str]:
    """Put into each damaged page the characters the second extractor found and PDFium
    did not; say what was done, or that it could not be."""
    damaged = [index for index, page in enumerate(pages) if page.unreadable]
    if not damaged:
        return []
    second = SECOND_EXTRACTOR(raw, damaged) if SECOND_EXTRACTOR is not None else {}
    warnings = []
    for index in damaged:
        page = pages[index]
        added = 0
        if index in second:
            page.text, added = merge_missing(page.text, second[index])
        runs = f"{page.unreadable} run{'s' if page.unreadable != 1 else ''} of text"
        if added:
            warnings.append(
                f"page {index + 1}: PDFium could not read {runs} (a font without a Unicode "
                f"map); {added} character{'s' if added != 1 else ''} recovered with a second "
                "extractor: check this page's dates and deadlines"
            )
        else:
            warnings.append(
                f"page {index + 1}: {runs} could not be read (a font without a Unicode map): "
                "dates, deadlines and titles on this page may be missing characters; "
                "ingest a text export of the issue if they are"
            )
    return warnings


def merge_missing(primary: str, other: str) -> tuple[str, int]:
    """`primary` with the non-ASCII characters `other` has and it lacks put where the
    alignment of the two says (a blank in `primary` standing for them dropped), and how
    many were added. Lines and everything else of `primary` are kept: the second
    extractor lays text out differently, and only lost glyphs are taken from it."""
    matcher = difflib.SequenceMatcher(None, primary, other, autojunk=False)
    out: list[str] = []
    added = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        mine = primary[i1:i2]
        extra = "".join(c for c in other[j1:j2] if not c.isspace() and not c.isascii())
        if tag == "equal" or not extra or mine.strip():
            out.append(mine)  # the same, nothing lost, or PDFium has text of its own here
            continue
        out.append(extra + "".join(c for c in mine if c in "\r\n"))
        added += len(extra)
    return "".join(out), added


def _line_tops(text_page: pypdfium2.PdfTextPage) -> list[tuple[float, float]]:
    """(top, bottom) of each printed line, top to bottom: PDFium's text rectangles (one per
    run of a font) merged where they overlap vertically."""
    rects = [text_page.get_rect(i) for i in range(text_page.count_rects())]
    lines: list[tuple[float, float]] = []
    for _left, bottom, _right, top in sorted(rects, key=lambda r: -r[3]):
        if lines and bottom < lines[-1][0] and top > lines[-1][1]:
            lines[-1] = (max(top, lines[-1][0]), min(bottom, lines[-1][1]))
        else:
            lines.append((top, bottom))
    return lines


def _page_text(text_page: pypdfium2.PdfTextPage, text: str) -> str:
    """The page's text with a blank line where the layout leaves a paragraph's space:
    a gap clearly wider than the page's usual line spacing."""
    text = _HYPHEN_MARKS.sub("-\n", text)
    lines = text.splitlines()
    tops = _line_tops(text_page)
    if len(tops) != len(lines) or len(lines) < 3:
        return text  # lines and boxes do not pair up: keep the text as PDFium gives it
    steps = sorted(tops[i][1] - tops[i + 1][1] for i in range(len(tops) - 1))
    usual = steps[len(steps) // 2]
    out = [lines[0]]
    for index in range(1, len(lines)):
        gap = tops[index - 1][1] - tops[index][1]
        if _PARAGRAPH_GAP[0] * usual < gap < _PARAGRAPH_GAP[1] * usual:
            out.append("")
        out.append(lines[index])
    return "\n".join(out)


def pdf_text(raw: bytes, source: str) -> str:
    """The PDF's text, pages separated by form feeds."""
    return pdf_extract(raw, source).text
