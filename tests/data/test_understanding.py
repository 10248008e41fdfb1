"""Plain questions read as an analyst means them (data/query/understanding.py): the same
question in different word orders, English or Chinese, gives the same reading. Both engines
(the body names come from the store)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from policybot.data.query.compiler import BodyNames
from policybot.data.query.language import parse_query
from policybot.data.query.understanding import Intent, Reading, understand

TODAY = date(2025, 2, 15)
pytestmark = pytest.mark.usefixtures("corpus")


def read(session: Session, text: str, intent: Intent = Intent.SEARCH) -> Reading:
    return understand(parse_query(text), TODAY, BodyNames(session), intent)


def said(reading: Reading) -> tuple[str, str]:
    """What the reading answers with, and the query it searches."""
    return str(reading.intent), reading.query.describe()


@pytest.mark.parametrize(
    "text",
    [
        "what are the deadlines for batteries",
        "What are the deadlines for batteries?",
        "deadlines for batteries",
        "batteries deadlines",
        "batteries: deadlines?",
        "for batteries, what are the deadlines?",
        "any upcoming deadlines for batteries",
        "when are batteries due",
        "电池 截止日期",
    ],
)
def test_deadline_questions_ask_for_the_deadline_list(session: Session, text: str) -> None:
    reading = read(session, text)
    assert said(reading)[0] == "deadlines", (text, reading)
    assert list(reading.query.words) in (["batteries"], ["batteries:"], ["电池"]), (
        reading.query.words
    )


@pytest.mark.parametrize(
    "text",
    [
        "targets due in 2027",
        "2027 targets",
        "Which goals are due in 2027?",
        "due in 2027: which targets",
        "targets for 2027",
        "goals in 2027",
        "what's due in 2027",
        "2027年 目标",
        "due 2027",
    ],
)
def test_a_deadline_year_in_any_order_is_due_that_year(session: Session, text: str) -> None:
    assert said(read(session, text)) == ("search", "due:2027"), text


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("storage targets by 2030", "storage due:..2030"),
        ("by 2030 storage targets", "storage due:..2030"),
        ("storage goals by the end of 2030", "storage due:..2030"),
        ("storage before 2028", "storage due:..2027"),
        ("到2030年 储能", "储能 due:..2030"),
    ],
)
def test_by_and_before_a_year_ahead_are_due_up_to_then(
    session: Session, text: str, described: str
) -> None:
    assert said(read(session, text)) == ("search", described), text


@pytest.mark.parametrize(
    "text",
    [
        "latest from the State Council",
        "State Council latest",
        "the newest from the State Council",
        "most recent State Council briefs",
        "what has the State Council published recently?",
        "what's new from the State Council",
        "国务院 最新",
        "国务院最近发布了什么",
    ],
)
def test_latest_questions_ask_for_the_newest_with_the_body(session: Session, text: str) -> None:
    assert said(read(session, text)) == ("latest", 'body:"State Council"'), text


@pytest.mark.parametrize(
    ("text", "count"),
    [("latest 3 from MIIT", 3), ("the 3 newest MIIT briefs", 3), ("MIIT latest", None)],
)
def test_how_many_of_the_newest(session: Session, text: str, count: int | None) -> None:
    reading = read(session, text)
    assert said(reading) == ("latest", "body:MIIT") and reading.count == count


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("what did MIIT publish in January", "body:MIIT since:2025-01-01 until:2025-01-31"),
        ("MIIT since December", "body:MIIT since:2024-12-01"),
        ("since December MIIT", "body:MIIT since:2024-12-01"),
        ("what has MIIT issued after November?", "body:MIIT since:2024-12-01"),
        ("chips published before December", "chips until:2024-11-30"),
        ("NDRC policies before 2025", "body:NDRC until:2024-12-31"),
        ("storage until November 2024", "storage until:2024-11-30"),
        ("storage since 2024-11-10", "storage since:2024-11-10"),
        ("State Council in 2023", 'body:"State Council" since:2023-01-01 until:2023-12-31'),
        ("工信部 2025年以来", "body:MIIT since:2025-01-01"),
        ("工信部 2024年11月", "body:MIIT since:2024-11-01 until:2024-11-30"),
        ("policies published last month", "since:2025-01-01 until:2025-01-31"),
        ("What are MIIT's targets for 2026?", "body:MIIT due:2026"),
    ],
)
def test_bodies_and_dates_in_any_order(session: Session, text: str, described: str) -> None:
    assert said(read(session, text)) == ("search", described), text


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("who issued the lithium battery standards", "lithium battery standards"),
        ("which bodies regulate AI content labelling?", "AI content labelling"),
        ("which ministries are involved in battery recycling", "battery recycling"),
        ("谁 发布 储能", "储能"),
    ],
)
def test_who_and_which_bodies_ask_for_the_issuers(
    session: Session, text: str, described: str
) -> None:
    reading = read(session, text)
    assert reading.asks_who and said(reading) == ("search", described), (text, reading)


@pytest.mark.parametrize(
    "text",
    [
        "Made in China 2025",
        "new energy storage",
        "battery targets",
        "delays due to export controls",
        "robots 2023",
        "国有企业改革",
    ],
)
def test_plain_words_stay_words(session: Session, text: str) -> None:
    reading = read(session, text)
    assert said(reading) == ("search", parse_query(text).describe()), reading


def test_the_reading_is_a_new_query(session: Session) -> None:
    query = parse_query("what did NDRC publish since October")
    reading = understand(query, TODAY, BodyNames(session))
    assert list(reading.query.bodies) == ["NDRC"] and reading.query.since == date(2024, 10, 1)
    assert list(query.words) == ["what", "did", "NDRC", "publish", "since", "October"]
    assert list(query.bodies) == [] and query.since is None


def test_a_command_word_typed_first_in_a_search_stays_a_word(session: Session) -> None:
    literal = understand(parse_query("latest zebra"), TODAY, BodyNames(session), literal_first=True)
    assert said(literal) == ("search", "latest zebra")


def test_the_commands_own_intent_is_kept(session: Session) -> None:
    assert said(read(session, "from the State Council", Intent.LATEST)) == (
        "latest",
        'body:"State Council"',
    )
    reading = read(session, "for batteries", Intent.DEADLINES)
    assert said(reading) == ("deadlines", "batteries") and not reading.changed
    # Nothing but a function word: left for the search to refuse, as before.
    assert list(read(session, "the", Intent.DEADLINES).query.words) == ["the"]
