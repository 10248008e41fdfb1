"""Pasted text whose labels run together on one line (a Slack message) reads as the same
text with a line per label; labels inside a summary's prose stay in it."""

from __future__ import annotations

from datetime import date

import pytest

from policybot.data.ingest.inline_labels import split_inline_labels
from policybot.data.ingest.single import parse_single_brief

ONE_LINE = (
    "Article: Guidelines on Computing Power (算力基础设施指导意见) Issuing body: MIIT "
    "Date: 2024-11-07 At a glance: The MIIT set targets for computing power. By 2026, "
    "computing capacity will reach 300 EFLOPS. MERICS comment: A big step."
)
LINES = (
    "Article: Guidelines on Computing Power (算力基础设施指导意见)\nIssuing body: MIIT\n"
    "Date: 2024-11-07\nAt a glance: The MIIT set targets for computing power. By 2026, "
    "computing capacity will reach 300 EFLOPS.\nMERICS comment: A big step."
)


def test_labels_on_one_line_parse_as_labels_on_their_own_lines() -> None:
    assert split_inline_labels(ONE_LINE) == LINES
    record = parse_single_brief(ONE_LINE)
    assert record == parse_single_brief(LINES)
    assert record.title == "Guidelines on Computing Power"
    assert record.title_original == "算力基础设施指导意见"
    assert record.bodies == ["MIIT"]
    assert record.published_on == date(2024, 11, 7)
    assert record.summary.startswith("The MIIT set targets") and "MERICS" not in record.summary
    assert (record.comment, record.comment_author) == ("A big step.", "MERICS")
    assert [g.deadline.due_on for g in record.goals if g.deadline] == [date(2026, 12, 31)]
    assert record.warnings == []


@pytest.mark.parametrize(
    ("text", "title", "bodies", "published"),
    [
        ("Title: Test Issued by: NDRC, MOF Date: 30/10/2024 At a glance: Rules.", "Test",
         ["NDRC", "MOF"], date(2024, 10, 30)),
        ("Policy name: Test Issuing bodies: MIIT, NDRC Date: November 7, 2024 At a glance: "
         "Rules.", "Test", ["MIIT", "NDRC"], date(2024, 11, 7)),
        ("At a glance: Rules for robots. Article: Test Issuing body: MIIT Date: 2024-11-07",
         "Test", ["MIIT"], date(2024, 11, 7)),
    ],
)  # fmt: skip
def test_each_label_spelling_splits(
    text: str, title: str, bodies: list[str], published: date
) -> None:
    record = parse_single_brief(text)
    assert (record.title, record.bodies, record.published_on) == (title, bodies, published)


def test_prose_that_says_date_or_comment_is_not_split() -> None:
    text = (
        "At a glance: The ministry invited public comment: until May. Its date: not set. "
        "Article: Test Issuing body: MIIT Date: 2024-11-07"
    )
    record = parse_single_brief(text)
    assert record.summary == "The ministry invited public comment: until May. Its date: not set."
    assert (record.title, record.published_on, record.comment) == ("Test", date(2024, 11, 7), "")


def test_a_second_label_of_a_section_already_seen_stays_in_the_text() -> None:
    text = "Article: Test Date: 2024-11-07 At a glance: Effective Date: 2025-01-01 for all."
    assert split_inline_labels(text) == (
        "Article: Test\nDate: 2024-11-07\nAt a glance: Effective Date: 2025-01-01 for all."
    )


def test_a_line_that_opens_with_no_label_is_left_alone() -> None:
    text = "Robots are welcome Issuing body: MIIT Date: 2024-11-07"
    assert split_inline_labels(text) == text
