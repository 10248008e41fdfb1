"""Tracker PDFs made in the test, from tracker text: no binary fixtures.

reportlab draws Latin text in Helvetica and CJK runs in its built-in CID font STSong-Light
(no font file needed). Each text line becomes one PDF line, URLs wrapped as a layout wraps
them; every page gets a running footer ("China Industrial Policy Tracker | 5") and a page
number, optionally a running header.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

LATIN_FONT = "Helvetica"
CJK_FONT = "STSong-Light"
# Characters Helvetica lacks: CJK, full-width forms, the bullet glyph.
_CJK_RUN = re.compile(r"([\u2022\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+)")
_URL_WIDTH = 95  # characters per line before a long URL wraps


def _font_registered() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _draw(
    pdf: canvas.Canvas, x: float, y: float, text: str, size: float, whole_cjk: bool = False
) -> float:
    """Draw one line; returns where it ends. whole_cjk: a line with Chinese is drawn in the
    CID font throughout (it has Latin glyphs too), never one CJK character alone, which
    PDFium cannot read in this font (a degraded PDF is the default)."""
    if whole_cjk and _CJK_RUN.search(text):
        pdf.setFont(CJK_FONT, size)
        pdf.drawString(x, y, text)
        return x + pdfmetrics.stringWidth(text, CJK_FONT, size)
    for index, part in enumerate(_CJK_RUN.split(text)):
        if not part:
            continue
        font = CJK_FONT if index % 2 else LATIN_FONT
        pdf.setFont(font, size)
        pdf.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, font, size)
    return x


def _link_rect(line: str, x: float, y: float, size: float) -> tuple[float, float, float, float]:
    """The rectangle of the line's "(Link)", as a tracker makes it clickable (measured in
    the Latin font: the marker is Latin and ends the line)."""
    end = x + sum(
        pdfmetrics.stringWidth(part, CJK_FONT if i % 2 else LATIN_FONT, size)
        for i, part in enumerate(_CJK_RUN.split(line))
    )
    start = end - pdfmetrics.stringWidth("(Link)", LATIN_FONT, size)
    return (start, y - 2, end, y + size)


_PARAGRAPH_END = re.compile(r"[.!?\u3002\u201d)]\s{2,}$")
PARAGRAPH = "\n"  # in pdf_lines: a paragraph ends here (the PDF shows a wider gap)


def pdf_lines(text: str) -> list[str]:
    """The lines a PDF shows for tracker text: blank lines gone, the extraction's private
    bullet glyph as a bullet, long URLs wrapped; a paragraph's end (a sentence end with two
    trailing spaces, as pdftotext marks it) followed by PARAGRAPH."""
    out: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.replace("\uf0a1", "\u2022").split())
        if not line:
            continue
        while line.startswith("http") and len(line) > _URL_WIDTH:
            out.append(line[:_URL_WIDTH])
            line = line[_URL_WIDTH:]
        out.append(line)
        if _PARAGRAPH_END.search(raw):
            out.append(PARAGRAPH)
    return out


def tracker_pdf(
    text: str,
    *,
    lines_per_page: int = 48,
    footer: Callable[[int], str] | None = lambda page: f"China Industrial Policy Tracker | {page}",
    header: str | None = None,
    page_numbers: bool = True,
    link_urls: Sequence[str] = (),
    whole_cjk: bool = False,
) -> bytes:
    """link_urls: the n-th line ending in "(Link)" gets a link annotation to the n-th URL
    over that marker (printed nowhere), as tracker PDFs link the official text."""
    _font_registered()
    lines = pdf_lines(text)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    width, height = A4
    links_made = 0
    for start in range(0, len(lines), lines_per_page):
        page = start // lines_per_page + 1
        y = height - 50
        if header:
            _draw(pdf, 50, y, header, 8)
            y -= 22
        for line in lines[start : start + lines_per_page]:
            if line == PARAGRAPH:
                y -= 9  # the space between paragraphs
                continue
            _draw(pdf, 50, y, line, 9, whole_cjk)
            if line.rstrip().endswith("(Link)") and links_made < len(link_urls):
                x = 50.0
                if whole_cjk and _CJK_RUN.search(line):
                    end = x + pdfmetrics.stringWidth(line.rstrip(), CJK_FONT, 9)
                    rect = (end - pdfmetrics.stringWidth("(Link)", CJK_FONT, 9), y - 2, end, y + 9)
                else:
                    rect = _link_rect(line.rstrip(), x, y, 9)
                pdf.linkURL(link_urls[links_made], rect, relative=0)
                links_made += 1
            y -= 13
        if footer is not None:
            _draw(pdf, 50, 30, footer(page), 8)
        if page_numbers:
            _draw(pdf, width - 60, 30, str(page), 8)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
