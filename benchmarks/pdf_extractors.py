"""Which PDF library extracts tracker text best: measured on generated trackers.

    python -m benchmarks.pdf_extractors

Two PDFs of the demo tracker (Chinese titles in a CID font, bullets, running footers):
one line per text run, and "justified" (every word placed on its own, as typesetting
does). For each library: lines equal to the source line, character similarity, CJK
characters kept, time. Libraries that are not installed are skipped (only pypdfium2 is a
dependency; `pip install pypdf pdfplumber` to compare).
"""

from __future__ import annotations

import difflib
import importlib.util
import io
import time
from collections.abc import Callable

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from tests.data.layout_variants import DEMO
from tests.data.tracker_pdf import CJK_FONT, LATIN_FONT, PARAGRAPH, pdf_lines, tracker_pdf

Extractor = Callable[[bytes], list[str]]


def _pypdfium2(raw: bytes) -> list[str]:
    import pypdfium2

    document = pypdfium2.PdfDocument(raw)
    pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    document.close()
    return pages


def _pypdf(layout: bool) -> Extractor:
    def extract(raw: bytes) -> list[str]:
        import pypdf

        reader = pypdf.PdfReader(io.BytesIO(raw))
        if layout:
            return [page.extract_text(extraction_mode="layout") for page in reader.pages]
        return [page.extract_text(extraction_mode="plain") for page in reader.pages]

    return extract


def _pdfplumber(raw: bytes) -> list[str]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def _pdfminer(raw: bytes) -> list[str]:
    from pdfminer.high_level import extract_text

    text: str = extract_text(io.BytesIO(raw))
    return text.split("\f")


def _policybot(raw: bytes) -> list[str]:
    from policybot.data.ingest.pdf import pdf_pages

    return pdf_pages(raw, "bench.pdf")


EXTRACTORS: list[tuple[str, str, Extractor]] = [
    # PDFium joins a line ending in a hyphen to the next (marked U+FFFE); policybot puts
    # the break back (data/ingest/pdf.py), which is what the first row measures.
    ("pypdfium2 + fix", "pypdfium2", _policybot),
    ("pypdfium2 raw", "pypdfium2", _pypdfium2),
    ("pypdf (plain)", "pypdf", _pypdf(False)),
    ("pypdf (layout)", "pypdf", _pypdf(True)),
    ("pdfplumber", "pdfplumber", _pdfplumber),
    ("pdfminer.six", "pdfminer", _pdfminer),
]


def justified_pdf(text: str) -> bytes:
    """Every word drawn at its own position with stretched gaps."""
    lines = [line for line in pdf_lines(text) if line != PARAGRAPH]
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    tracker_pdf("")  # registers the CID font
    for start in range(0, len(lines), 48):
        y = A4[1] - 50
        for line in lines[start : start + 48]:
            x = 50.0
            for word in line.split():
                font = CJK_FONT if any(ord(c) > 0x2000 for c in word) else LATIN_FONT
                pdf.setFont(font, 9)
                pdf.drawString(x, y, word)
                x += pdfmetrics.stringWidth(word, font, 9) + 4.5
            y -= 13
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def measure(name: str, extract: Extractor, raw: bytes, reference: list[str]) -> str:
    started = time.perf_counter()
    pages = extract(raw)
    elapsed = time.perf_counter() - started
    lines = [" ".join(line.split()) for page in pages for line in page.splitlines()]
    lines = [line for line in lines if line and "Tracker |" not in line and not line.isdigit()]
    exact = sum(1 for a, b in zip(reference, lines, strict=False) if a == b)
    ratio = difflib.SequenceMatcher(
        None, "\n".join(reference), "\n".join(lines), autojunk=False
    ).ratio()
    cjk = sum(1 for line in lines for c in line if "\u4e00" <= c <= "\u9fff")
    cjk_ref = sum(1 for line in reference for c in line if "\u4e00" <= c <= "\u9fff")
    return (
        f"  {name:<15} lines {exact:>3}/{len(reference)} exact, {len(lines):>4} lines out, "
        f"similarity {ratio:.4f}, CJK {cjk}/{cjk_ref}, {elapsed * 1000:6.1f} ms"
    )


def main() -> None:
    text = DEMO.read_text("utf-8")
    reference = [line for line in pdf_lines(text) if line != PARAGRAPH]
    for label, raw in (("one run per line", tracker_pdf(text)), ("justified", justified_pdf(text))):
        print(f"{label} ({len(raw) / 1024:.0f} KB):")
        for name, module, extract in EXTRACTORS:
            if importlib.util.find_spec(module) is None:
                print(f"  {name:<15} not installed")
                continue
            print(measure(name, extract, raw, reference))


if __name__ == "__main__":
    main()
