"""Tracker PDFs, generated here with reportlab (Chinese titles in a built-in CID font)."""

from __future__ import annotations

import dataclasses
import io

import pytest
from reportlab.pdfgen import canvas

from policybot.data.ingest.parser import parse_bytes, parse_file, parse_text
from policybot.data.ingest.pdf import pdf_pages, pdf_text
from policybot.data.ingest.records import BriefRecord
from policybot.data.ingest.text import ParseError
from tests.data.layout_variants import DEMO
from tests.data.tracker_pdf import tracker_pdf


def _without_lines(briefs: list[BriefRecord]) -> list[dict[str, object]]:
    return [{k: v for k, v in dataclasses.asdict(b).items() if k != "line"} for b in briefs]


def test_demo_pdf_ingests_field_for_field_like_the_text_file() -> None:
    text_issue = parse_file(DEMO)
    pdf_issue = parse_bytes(tracker_pdf(DEMO.read_text("utf-8")), DEMO.with_suffix(".pdf").name)
    assert _without_lines(pdf_issue.briefs) == _without_lines(text_issue.briefs)
    assert pdf_issue.issue_date == text_issue.issue_date
    assert pdf_issue.unassigned_links == text_issue.unassigned_links == []
    assert pdf_issue.warnings == []


def test_chinese_titles_survive_extraction() -> None:
    text = pdf_text(tracker_pdf(DEMO.read_text("utf-8")), "x.pdf")
    assert "关于印发《新材料大数据中心总体建设方案》的通知" in text
    assert "\u2022 By 2027, data aggregation" in text


def test_running_header_footer_and_page_numbers_are_found_by_repetition() -> None:
    raw = tracker_pdf(
        DEMO.read_text("utf-8"),
        lines_per_page=30,
        header="MERICS China Industrial Policy Tracker \u2013 November 2024",
        footer=lambda page: f"merics.org \u2022 Tracker {page}",
    )
    issue = parse_bytes(raw, DEMO.with_suffix(".pdf").name)
    everything = " ".join(f"{b.title} {b.summary} {b.comment} {b.bodies}" for b in issue.briefs)
    assert "merics.org \u2022" not in everything
    assert "November 2024" not in everything
    assert _without_lines(issue.briefs) == _without_lines(parse_file(DEMO).briefs)


def test_pages_come_apart_with_form_feeds() -> None:
    raw = tracker_pdf(DEMO.read_text("utf-8"), lines_per_page=40)
    pages = pdf_pages(raw, "x.pdf")
    assert len(pages) >= 7
    assert pdf_text(raw, "x.pdf").count("\f") == len(pages) - 1


def test_a_pdf_without_text_is_refused_clearly() -> None:
    buffer = io.BytesIO()
    scan = canvas.Canvas(buffer)
    scan.rect(50, 50, 400, 600, fill=1)  # a page with only a picture, as a scan
    scan.showPage()
    scan.save()
    raw = buffer.getvalue()
    with pytest.raises(ParseError, match="no text layer"):
        parse_bytes(raw, "scan.pdf")


def test_a_damaged_pdf_is_refused_clearly() -> None:
    raw = tracker_pdf(DEMO.read_text("utf-8"))
    with pytest.raises(ParseError, match="cannot read this PDF"):
        parse_bytes(raw[: len(raw) // 3], "cut.pdf")


def test_footers_in_text_without_pages_are_dropped_too() -> None:
    lines = DEMO.read_text("utf-8").splitlines()
    for index in range(40, len(lines), 40):
        lines[index] += f"\nChina Industrial Policy Tracker | {index // 40}"
    issue = parse_text("\n".join(lines) + "\n", DEMO.name)
    assert _without_lines(issue.briefs) == _without_lines(parse_file(DEMO).briefs)


def test_pdfs_parsed_from_several_threads_at_once_come_out_whole() -> None:
    """PDFium is not thread-safe: uploads on a worker pool take turns, results stay exact."""
    from concurrent.futures import ThreadPoolExecutor

    raw = tracker_pdf(DEMO.read_text("utf-8"))
    expected = _without_lines(parse_bytes(raw, "t-2024-11.pdf").briefs)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: parse_bytes(raw, "t-2024-11.pdf").briefs, range(8)))
    assert all(_without_lines(briefs) == expected for briefs in results)
