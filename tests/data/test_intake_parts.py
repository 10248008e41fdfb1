"""The parts of tolerant intake: labels, dates, link placement, furniture, hyphenation,
goal kinds, and the single-brief parser for pasted text."""

from __future__ import annotations

from datetime import date

import pytest

from policybot.data.ingest.dates import NEWS_PREFIX, infer_year, news_date_parts, parse_date
from policybot.data.ingest.furniture import furniture_shapes
from policybot.data.ingest.goal_kinds import news_goal_kind
from policybot.data.ingest.hyphenation import repair_hyphenation
from policybot.data.ingest.labels import comment_author, match_label
from policybot.data.ingest.links import place_links
from policybot.data.ingest.parser import parse_text
from policybot.data.ingest.single import parse_single_brief, single_issue
from policybot.data.ingest.text import ParseError, split_lines
from policybot.data.models import GoalKind


@pytest.mark.parametrize(
    ("line", "section"),
    [
        ("Article: Notice", "article"),
        ("Policy name: Notice", "article"),
        ("Title: Notice", "article"),
        ("Document: Notice", "article"),
        ("Issuing body/bodies: MIIT", "bodies"),
        ("Issued by: MIIT", "bodies"),
        ("Issuing authority: MIIT", "bodies"),
        ("MERICS comment: It", "comment"),
        ("Comment: It", "comment"),
        ("Rhodium Group analysis: It", "comment"),
        ("Date: 2024年10月30日", "date"),
    ],
)
def test_labels(line: str, section: str) -> None:
    found = match_label(line)
    assert found is not None and found[0] == section


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("MERICS comment: x", "MERICS"),
        ("Rhodium Group analysis: x", "Rhodium Group"),
        ("Comment: x", None),
        ("Our comment: x", None),
        ("MERICS's assessment: x", "MERICS"),
    ],
)
def test_comment_author(line: str, author: str | None) -> None:
    found = match_label(line)
    assert found is not None
    assert comment_author(found[2]) == author


def test_a_sentence_ending_in_comment_is_no_label() -> None:
    assert match_label("and the ministry invited public comment: until May") is None


@pytest.mark.parametrize(
    "text", ["October 30, 2024", "30 October 2024", "Oct. 30, 2024", "2024-10-30", "2024年10月30日"]
)
def test_date_forms(text: str) -> None:
    assert parse_date(text) == date(2024, 10, 30)


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        ("2024-11-07: The MEE issued", (11, 7, 2024)),
        ("2024年11月7日：生态环境部", (11, 7, 2024)),
        ("November 07: The MEE", (11, 7, None)),
        ("7 Nov.: The MEE", (11, 7, None)),
    ],
)
def test_news_prefixes(line: str, parts: tuple[int, int, int | None]) -> None:
    match = NEWS_PREFIX.match(line)
    assert match is not None and news_date_parts(match) == parts


def test_year_rolls_over_both_ways() -> None:
    assert infer_year(1, date(2024, 12, 1), 13) == 2025  # a December issue's January 13
    assert infer_year(12, date(2025, 1, 1), 20) == 2024  # a January issue's December 20
    assert infer_year(10, date(2024, 11, 1), 29) == 2024


def test_iso_dated_news_line_is_dated() -> None:
    issue = parse_text(
        "\u2022 2024-11-07: The MEE issued a soil plan. (MEE notice)\n\n"
        "https://www.mee.gov.cn/soil.html\n",
        "tracker-2024-11.txt",
    )
    (news,) = issue.news
    assert news.published_on == date(2024, 11, 7)
    assert news.links == ["https://www.mee.gov.cn/soil.html"]
    assert issue.warnings == []


MIIT = "https://www.miit.gov.cn/a.html"
REUTERS = "https://www.reuters.com/b"


def test_links_follow_labels_and_domains_past_a_missing_link() -> None:
    placed = place_links(["MIIT notice", "NDRC notice", "Reuters"], [MIIT, REUTERS])
    assert placed.links == [[MIIT], [], [REUTERS]]
    assert placed.unplaced == []


def test_a_repeated_link_is_not_lost_or_doubled() -> None:
    placed = place_links(["MIIT notice", "Reuters"], [MIIT, MIIT, REUTERS])
    assert placed.links == [[MIIT], [REUTERS]]


def test_a_link_nothing_fits_is_reported_not_dropped() -> None:
    placed = place_links(["MIIT notice"], [MIIT, "https://example.org/x", "https://example.org/y"])
    assert placed.links == [[MIIT]]
    assert placed.unplaced == ["https://example.org/x", "https://example.org/y"]


def test_unlabelled_items_get_links_only_when_the_order_decides() -> None:
    assert place_links([None, None], ["https://a.org/1", "https://b.org/2"]).links == [
        ["https://a.org/1"],
        ["https://b.org/2"],
    ]
    three = place_links([None, None], ["https://a.org/1", "https://b.org/2", "https://c.org/3"])
    assert three.links == [[], []] and len(three.unplaced) == 3


def test_unplaced_links_are_named_in_the_warnings() -> None:
    issue = parse_text(
        "\u2022 November 7: The MEE issued a soil plan. (MEE notice)\n\n"
        "https://www.mee.gov.cn/soil.html\nhttps://example.org/unrelated\n",
        "tracker-2024-11.txt",
    )
    assert issue.unassigned_links == ["https://example.org/unrelated"]
    assert "news link not placed (no item fits it): https://example.org/unrelated" in issue.warnings


def test_furniture_needs_repetition_across_pages() -> None:
    bodies = ["The MIIT set goals.", "The NDRC issued rules.", "Exports rose.", "Sales fell."]
    pages = [f"{body}\nMore text here.\nTracker | {n}" for n, body in enumerate(bodies, 1)]
    assert furniture_shapes("\f".join(pages)) == {"tracker | #", "more text here."}
    assert furniture_shapes("Tracker | 1\nA line\fAnother page\nmore") == set()


def test_furniture_without_pages_needs_a_page_number() -> None:
    text = "\n".join(["China Tracker | 3", "(Reuters)", "x"] * 4)
    assert furniture_shapes(text) == {"china tracker | #"}


@pytest.mark.parametrize(
    ("first", "second", "joined"),
    [
        ("The lithi-", "um battery and lithium supply.", "The lithium"),
        ("A high-", "quality plan.", "A high-"),
        ("State-", "owned firms.", "State-"),
        ("Growth in e-", "commerce.", "Growth in e-"),
        ("The manufac-", "turing base.", "The manufacturing"),
        ("See https://example.org/new-", "materials-plan", "See https://example.org/new-"),
    ],
)
def test_hyphenation(first: str, second: str, joined: str) -> None:
    lines = repair_hyphenation(split_lines(f"{first}\n{second}\n"))
    assert lines[0].text == joined


def test_a_compound_the_document_writes_whole_keeps_its_hyphen() -> None:
    text = "Rules for cross-border data.\nMore cross-\nborder flows.\n"
    lines = repair_hyphenation(split_lines(text))
    assert lines[1].text == "More cross-"


@pytest.mark.parametrize(
    ("label", "text", "kind"),
    [
        ("Yicai Global", "Airbus announced it will open a second line by 2026.", GoalKind.COMPANY),
        ("Reuters", "Volkswagen will buy separators over the next five years.", GoalKind.COMPANY),
        ("MIIT Notice", "The MIIT released guidelines. By 2027, ...", GoalKind.POLICY),
        ("Xinhua", "The State Council approved a plan to reach 100 GW by 2030.", GoalKind.POLICY),
        (None, "The NDRC said capacity will double by 2027.", GoalKind.POLICY),
    ],
)
def test_goal_kinds(label: str | None, text: str, kind: GoalKind) -> None:
    assert news_goal_kind(label, text) is kind


def test_single_brief_from_labelled_text() -> None:
    record = parse_single_brief(
        "Policy name: Notice on Robots (机器人通知)\nAt a glance: The MIIT set goals. By 2027, "
        "build 10 hubs.\nIssued by: MIIT\nDate: 2024-11-05\n"
    )
    assert (record.title, record.title_original, record.bodies) == (
        "Notice on Robots",
        "机器人通知",
        ["MIIT"],
    )
    assert record.published_on == date(2024, 11, 5)
    assert [g.deadline.due_on for g in record.goals if g.deadline] == [date(2027, 12, 31)]
    assert record.warnings == []


def test_single_brief_from_a_pasted_web_page() -> None:
    record = parse_single_brief(
        "MIIT issues plan for humanoid robots (人形机器人创新发展指导意见)\n\n"
        "The Ministry of Industry and Information Technology published guiding opinions on\n"
        "humanoid robots on November 2, 2023. By 2025, mass production of key components\n"
        "should be achieved.\n\nhttps://www.miit.gov.cn/robots.html\n"
    )
    assert record.title == "MIIT issues plan for humanoid robots"
    assert record.title_original == "人形机器人创新发展指导意见"
    assert record.bodies == ["MIIT"]
    assert record.published_on == date(2023, 11, 2)
    assert record.links == ["https://www.miit.gov.cn/robots.html"]
    assert [g.deadline.due_on for g in record.goals if g.deadline] == [date(2025, 12, 31)]
    assert "no labels: the first line is taken as the title" in record.warnings
    issue = single_issue(record)
    assert issue.briefs == [record] and issue.issue_date == date(2023, 11, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   \n", "the text is empty"),
        ("https://example.org/only\n", "only links"),
        ("x" * 20_001, "at most 20,000"),
    ],
)
def test_single_brief_refuses_what_is_no_brief(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_single_brief(text)


def test_single_brief_refuses_a_whole_issue() -> None:
    text = (
        "At a glance: A.\nArticle: One (一)\nIssuing body: MIIT\nDate: May 1, 2024\n"
        "At a glance: B.\nArticle: Two (二)\nIssuing body: MOF\nDate: May 2, 2024\n"
    )
    with pytest.raises(ParseError, match="holds 2 briefs"):
        parse_single_brief(text)


def test_a_brief_missing_a_field_is_kept_with_a_warning() -> None:
    text = (
        "At a glance: The MOF extended tax breaks. By 2027, ...\nArticle: Tax Notice (税收公告)\n"
        "Date: May 1, 2024\nhttps://example.org/tax\n"
        "At a glance: The MIIT set goals for robots.\nIssuing body: MIIT\nDate: May 2, 2024\n"
        "https://example.org/robots\n"
    )
    issue = parse_text(text, "t.txt")
    first, second = issue.policy_briefs
    assert first.warnings == ["brief 'Tax Notice' names no issuing body"]
    assert second.title == "The MIIT set goals for robots."
    assert second.warnings == [
        "brief 'The MIIT set goals for robots.' has no title line; its summary names it"
    ]


YICAI = [f"https://www.yicaiglobal.com/news/{n}" for n in range(3)]


def test_an_unrelated_link_among_a_sources_own_is_not_placed() -> None:
    """Three Yicai items, their three links and an unrelated one between them: order alone
    would shift the last two; the domain keeps them in place."""
    urls = [YICAI[0], YICAI[1], "https://www.example.com/x", YICAI[2]]
    placed = place_links(["Yicai Global"] * 3, urls)
    assert placed.links == [[YICAI[0]], [YICAI[1]], [YICAI[2]]]
    assert placed.unplaced == ["https://www.example.com/x"]


def test_a_missing_link_in_a_mixed_block_leaves_only_its_item_without() -> None:
    labels = ["Yicai Global", "Reuters", "Yicai Global", "SCMP"]
    urls = [YICAI[0], YICAI[1], "https://www.scmp.com/a"]  # the Reuters link is missing
    placed = place_links(labels, urls)
    assert placed.links == [[YICAI[0]], [], [YICAI[1]], ["https://www.scmp.com/a"]]
    assert placed.unplaced == []
