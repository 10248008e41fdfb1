"""Tracker PDFs made in the test, from tracker text: no binary fixtures.

reportlab draws Latin text in Helvetica and CJK runs in its built-in CID font STSong-Light
(no font file needed). Each text line becomes one PDF line, URLs wrapped as a layout wraps
them; every page gets a running footer ("China Industrial Policy Tracker | 5") and a page
number, optionally a running header.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

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


def _draw(pdf: canvas.Canvas, x: float, y: float, text: str, size: float) -> None:
    for index, part in enumerate(_CJK_RUN.split(text)):
        if not part:
            continue
        font = CJK_FONT if index % 2 else LATIN_FONT
        pdf.setFont(font, size)
        pdf.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, font, size)


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
) -> bytes:
    _font_registered()
    lines = pdf_lines(text)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    width, height = A4
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
            _draw(pdf, 50, y, line, 9)
            y -= 13
        if footer is not None:
            _draw(pdf, 50, 30, footer(page), 8)
        if page_numbers:
            _draw(pdf, width - 60, 30, str(page), 8)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
