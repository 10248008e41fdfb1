"""Text out of a tracker PDF, page by page, with PDFium (pypdfium2).

Chosen by measured fidelity on generated trackers with Chinese titles (benchmarks/
pdf_extractors.py): PDFium gave every line exactly, bullets and CJK included, also with
word-by-word placed (justified) text, and was the fastest; pypdf's layout mode came close,
pdfminer.six/pdfplumber dropped bullets and split lines. Pages are joined with form feeds,
so that page furniture can be found by repetition across pages (furniture.py).
"""

from __future__ import annotations

import re
import threading

import pypdfium2

from policybot.data.ingest.furniture import PAGE_BREAK
from policybot.data.ingest.text import ParseError

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


class TextBudgetExceeded(ParseError):
    """The text passed the caller's `max_text_bytes` (UTF-8): reading stopped there."""


def is_pdf(raw: bytes) -> bool:
    return raw[:1024].lstrip().startswith(PDF_MAGIC)


def pdf_pages(raw: bytes, source: str, max_text_bytes: int | None = None) -> list[str]:
    with _PDFIUM_LOCK:
        pages = _extract(raw, source, max_text_bytes)
    if not any(page.strip() for page in pages):
        raise ParseError(
            source,
            None,
            "this PDF has no text layer (a scan?); run it through OCR, or ingest the text",
        )
    return pages


def _extract(raw: bytes, source: str, max_text_bytes: int | None = None) -> list[str]:
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
        pages: list[str] = []
        for index in range(len(document)):
            page = document[index]
            try:
                text_page = page.get_textpage()
                try:
                    pages.append(_page_text(text_page))
                finally:
                    text_page.close()
            finally:
                page.close()
            if max_text_bytes is not None:
                max_text_bytes -= len(pages[-1].encode("utf-8"))
                if max_text_bytes < 0:
                    raise TextBudgetExceeded(source, None, "the text passed its budget")
    except pypdfium2.PdfiumError as exc:
        raise ParseError(source, None, f"cannot read this PDF's text ({exc})") from exc
    finally:
        document.close()
    return pages


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


def _page_text(text_page: pypdfium2.PdfTextPage) -> str:
    """The page's text with a blank line where the layout leaves a paragraph's space:
    a gap clearly wider than the page's usual line spacing."""
    text = _HYPHEN_MARKS.sub("-\n", text_page.get_text_range())
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


def pdf_text(raw: bytes, source: str, max_text_bytes: int | None = None) -> str:
    """The PDF's text, pages separated by form feeds."""
    pages = pdf_pages(raw, source, max_text_bytes)
    return PAGE_BREAK.join(page.replace(PAGE_BREAK, "\n") for page in pages)
