"""Search as people type it, on the demo corpus and both engines: questions and dates read
as filters, long and dotted queries, and hints that say what they do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Brief, Goal
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.replies import Reply
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("corpus")

Run = Callable[[str], Reply]


@pytest.fixture
def run(factory: sessionmaker[Session]) -> Run:
    runner = CommandRunner(factory)

    def run(text: str) -> Reply:
        return runner.run(text, Context(now=NOW))

    return run


def refs(reply: Reply) -> set[str]:
    return {b.ref for b in reply.briefs}


def total(reply: Reply) -> int:
    """The count in a search headline ("13 briefs for ...")."""
    first = reply.text.split()[0]
    return int(first) if first.isdecimal() else 0


def published_in(factory: sessionmaker[Session], start: date, end: date) -> int:
    with factory() as session:
        return len(
            session.scalars(select(Brief.id).where(Brief.published_on.between(start, end))).all()
        )


def due_between(factory: sessionmaker[Session], start: date, end: date) -> set[str]:
    with factory() as session:
        return {
            f"b{i}"
            for i in session.scalars(
                select(Goal.brief_id).where(Goal.due_on.between(start, end)).distinct()
            )
        }


# --- 1. dates and questions ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["November 2024", "Nov 2024", "published in November 2024"])
def test_a_month_and_year_is_the_publication_month(
    run: Run, factory: sessionmaker[Session], text: str
) -> None:
    reply = run(f"/policy {text}")
    expected = published_in(factory, date(2024, 11, 1), date(2024, 11, 30))
    assert expected > 0 and total(reply) == expected, reply.text
    assert "I read this as `since:2024-11-01 until:2024-11-30`." in reply.notes


@pytest.mark.parametrize("text", ["published in 2024", "issued in 2024", "published 2024"])
def test_a_year_in_a_published_phrase_is_the_publication_year(
    run: Run, factory: sessionmaker[Session], text: str
) -> None:
    reply = run(f"/policy {text}")
    assert total(reply) == published_in(factory, date(2024, 1, 1), date(2024, 12, 31))
    assert "I read this as `since:2024-01-01 until:2024-12-31`." in reply.notes


@pytest.mark.parametrize(
    "text",
    [
        "what's due in 2027?",
        "Which goals are due in 2027?",
        "Which targets are due in 2027",
        "due 2027",
    ],
)
def test_question_words_and_deadline_nouns_are_part_of_the_phrase(run: Run, text: str) -> None:
    reply = run(f"/policy {text}")
    assert reply.text.endswith("for due:2027"), reply.text
    assert refs(reply) == refs(run("/policy due:2027")) != set()


def test_by_a_year_is_due_from_today_to_its_end(run: Run, factory: sessionmaker[Session]) -> None:
    expected = due_between(factory, NOW.date(), date(2030, 12, 31))
    for text in ("by 2030", "Which targets are due by 2030?", "due:..2030"):
        reply = run(f"/policy {text}")
        assert reply.text.endswith("for due:..2030"), reply.text
        assert total(reply) == len(expected) and len(expected) > 1
        assert refs(reply) <= expected
    assert run("/policy before 2028").text.endswith("for due:..2027")
    assert run("/policy by 2030").text != run("/policy for 2030").text


def test_an_explicit_due_year_widens_the_deadlines_window(run: Run) -> None:
    reply = run("/policy deadlines due:2035")
    assert reply.deadlines and all(
        d.goal.due_on is not None and d.goal.due_on.year == 2035 for d in reply.deadlines
    ), reply.text
    assert "to the end of 2035" in reply.text
    by = run("/policy deadlines due:..2035")
    assert len(by.deadlines) >= len(reply.deadlines) and "to the end of 2035" in by.text
    assert not run("/policy deadlines due:..2020").deadlines


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("what are the targets for 2035", "due:2035"),
        # "policies" only says "briefs": nothing else is stored.
        ("policies from last week", f"since:{NOW.date().replace(day=22)}"),
        ("storage plans of the last month", "storage plans since:2026-10-01 until:2026-10-31"),
    ],
)
def test_function_words_around_an_understood_phrase_are_dropped(
    run: Run, text: str, described: str
) -> None:
    reply = run(f"/policy {text}")
    assert f"I read this as `{described}`." in reply.notes, (reply.text, reply.notes)


# --- 2. long queries ------------------------------------------------------------------------


def test_a_long_query_is_cut_at_a_word_boundary(run: Run) -> None:
    text = "at a glance, many storage " * 400  # 10,400 characters
    reply = run(f"/policy {text}")
    shown = " ".join([reply.text, *reply.notes, *(b.command for b in reply.buttons)])
    for cut in ("stor ", "stor.", "stor`", "ma`", "glan`"):
        assert cut not in shown + " ", shown[-300:]
    assert not reply.is_error
