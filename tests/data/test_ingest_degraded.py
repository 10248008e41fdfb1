"""Re-ingesting never silently loses facts. A PDF whose single Chinese characters are in a
font without a Unicode map (reportlab's STSong-Light, as iText makes them) loses them in
PDFium's extraction ("到2027年" -> "2027年", "2024年12月10日" -> "2024 12 10"): the page is
read again with a second extractor and the characters put back; where none helps, the
page is named in a warning. Whatever the text: an update that would remove a goal, a
deadline or a date the store has keeps them, names them in the preview and the summary,
and removes them only when asked (replace). Both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.ingest import parser, pdf
from policybot.data.ingest.parser import parse_bytes
from policybot.data.ingest.preview import preview_bytes
from policybot.data.ingest.writer import IngestSummary, ingest_bytes
from policybot.data.models import Brief
from tests.data.tracker_pdf import tracker_pdf

NOW = datetime(2024, 12, 20, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
ISSUE = (
    "At a glance: MIIT issued a plan for humanoid robots. Key goals include:\n\n"
    "\uf0a1 到2027年，机器人密度实现翻番\n\n"
    "\uf0a1 By 2030, core components reach world level\n\n"
    "\uf0a1 到2025年底，培育10家龙头企业\n\n"
    "MERICS comment: The plan follows last year's guidelines.\n\n"
    "Article: Implementation Plan for Humanoid Robots (人形机器人创新发展实施方案) (Link)\n\n"
    "Issuing body: MIIT\n\n"
    "Date: 2024年12月10日\n"
)
OFFICIAL = "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_robots.html"
GOOD = tracker_pdf(ISSUE, link_urls=[OFFICIAL], whole_cjk=True)  # each line in one font
DEGRADED = tracker_pdf(ISSUE, link_urls=[OFFICIAL])  # one-character runs in the CID font
STORED = (date(2024, 12, 10), [date(2027, 12, 31), date(2030, 12, 31), date(2025, 12, 31)])


def without_second_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    """What happens where no second extractor reads the page better. PDFs are read in a
    child process (data/ingest/isolation.py) that this switch cannot reach, so here they
    are read in this process: what is tested is what the parser and writer do next."""
    monkeypatch.setattr(parser, "read_pdf", lambda raw, source: pdf.pdf_extract(raw, source))
    monkeypatch.setattr(pdf, "SECOND_EXTRACTOR", None)


@pytest.fixture
def no_second_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    without_second_extractor(monkeypatch)


def _ingest(
    factory: sessionmaker[Session], raw: bytes, name: str, at: datetime, replace: bool = False
) -> IngestSummary:
    with factory() as session, session.begin():
        return ingest_bytes(session, raw, name, at, replace_facts=replace)


def _stored(factory: sessionmaker[Session]) -> tuple[date | None, list[date | None]]:
    with factory() as session:
        (brief,) = session.scalars(select(Brief)).all()
        return brief.published_on, [g.due_on for g in brief.goals]


def test_the_good_pdf_reads_every_date() -> None:
    issue = parse_bytes(GOOD, "good.pdf")
    assert issue.warnings == []
    (brief,) = issue.briefs
    assert brief.published_on == STORED[0]
    assert [g.deadline.due_on if g.deadline else None for g in brief.goals] == STORED[1]
    assert brief.links == [OFFICIAL]


def test_lost_glyphs_are_recovered_with_the_second_extractor() -> None:
    issue = parse_bytes(DEGRADED, "degraded.pdf")
    (brief,) = issue.briefs
    assert brief.goals[0].text.startswith("到2027年")
    assert brief.published_on == STORED[0]
    assert [g.deadline.due_on if g.deadline else None for g in brief.goals] == STORED[1]
    assert len(issue.warnings) == 1 and "recovered with a second extractor" in issue.warnings[0]


@pytest.mark.usefixtures("no_second_extractor")
def test_without_it_the_page_is_named() -> None:
    issue = parse_bytes(DEGRADED, "degraded.pdf")
    (brief,) = issue.briefs
    assert brief.published_on is None and brief.goals[0].deadline is None  # what was lost
    assert issue.warnings[0].startswith("page 1: ") and "could not be read" in issue.warnings[0]


def test_a_degraded_copy_over_a_good_one_loses_nothing(factory: sessionmaker[Session]) -> None:
    _ingest(factory, GOOD, "robots.pdf", NOW)
    summary = _ingest(factory, DEGRADED, "robots-copy.pdf", LATER)
    assert summary.kept == [] and summary.added == 0
    assert _stored(factory) == STORED


@pytest.mark.usefixtures("no_second_extractor")
def test_removals_are_kept_and_named_until_replaced(factory: sessionmaker[Session]) -> None:
    _ingest(factory, GOOD, "robots.pdf", NOW)
    with factory() as session:
        (brief,) = session.scalars(select(Brief)).all()
        ref, goal = brief.ref, brief.goals[0].ref
        preview = preview_bytes(session, DEGRADED, "robots-copy.pdf", LATER)
    expected = [
        f"{ref}: its date (10 Dec 2024)",
        f"{ref}: the deadline of {goal} \u201c到2027年，机器人密度实现翻番\u201d (by end of 2027)",
    ]
    assert preview.removals == expected
    assert [b.action for b in preview.briefs] == ["update"]  # the rest of it still applies
    summary = _ingest(factory, DEGRADED, "robots-copy.pdf", LATER)
    assert summary.kept == expected and summary.removed == [] and summary.added == 0
    assert _stored(factory) == STORED  # nothing lost
    with factory() as session:  # what else changed did apply: the damaged goal text
        (brief,) = session.scalars(select(Brief)).all()
        assert brief.goals[0].text.startswith("2027年")

    replaced = _ingest(factory, DEGRADED, "robots-copy.pdf", LATER, replace=True)
    # (the stored goal's text is the damaged one by now, as that part of the update applied)
    assert replaced.removed == [expected[0], expected[1].replace("\u201c到", "\u201c")]
    assert replaced.kept == []
    assert _stored(factory) == (None, [None, *STORED[1][1:]])


def test_a_goal_left_out_of_an_update_stays(factory: sessionmaker[Session]) -> None:
    """Independently of PDFs: the text of an edited issue that drops a goal."""
    _ingest(factory, ISSUE.encode(), "robots.txt", NOW)
    with factory() as session:
        (brief,) = session.scalars(select(Brief)).all()
        named = f"{brief.ref}: the goal {brief.goals[1].ref} \u201cBy 2030, core components"
    shorter = ISSUE.replace("\uf0a1 By 2030, core components reach world level\n\n", "")
    summary = _ingest(factory, shorter.encode(), "robots-edited.txt", LATER)
    assert len(summary.kept) == 1 and summary.kept[0].startswith(named)
    assert _stored(factory) == STORED
    _ingest(factory, shorter.encode(), "robots-edited.txt", LATER, replace=True)
    assert _stored(factory) == (STORED[0], [STORED[1][0], STORED[1][2]])
