"""Deadlines, the App Home and the scorecard read what they show, not the whole store.

A store of many far-off goals (due 2035), a dozen due within the default 24 months and a
few already past: rows returned by statements on the goals table are counted with a
session event (as tests/scheduler/test_planning_cost.py does), so the far goals can never
be loaded again without a test failing. Replies are checked against the full listing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Result
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from policybot.data.deadlines import due_goals, due_goals_page
from policybot.data.query.compiler import build_filter
from policybot.data.query.language import parse_query
from policybot.handlers.briefs import PAGE_SIZE, deadlines
from policybot.handlers.context import Context
from policybot.handlers.home import build_home
from policybot.handlers.request import Request
from policybot.handlers.scorecard import scorecard, status
from tests.scheduler.conftest import ingest, tracker_issue

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
FAR_GOALS = 120  # due 2035: outside every window asked here
NEAR_GOALS = 12  # due by end of 2027: inside the default 24 months
PAST_GOALS = 4  # due by end of 2025: what the scorecard scores


@dataclass
class Reads:
    goal_rows: int = 0  # rows returned by statements that read the goals table


@contextmanager
def counting(session: Session) -> Iterator[Reads]:
    reads = Reads()

    def on_execute(state: ORMExecuteState) -> Result[Any] | None:
        if not state.is_select:
            return None
        sql = str(state.statement).lower()
        frozen = state.invoke_statement().freeze()
        if "from goals" in sql or "join goals" in sql:
            reads.goal_rows += len(frozen().all())
        return frozen()

    event.listen(session, "do_orm_execute", on_execute)
    try:
        yield reads
    finally:
        event.remove(session, "do_orm_execute", on_execute)


@pytest.fixture
def filled(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    far = tracker_issue(*(f"Far Plan {n}" for n in range(FAR_GOALS))).replace(
        b"By 2028,", b"By 2035,"
    )
    near = tracker_issue(*(f"Near Plan {n}" for n in range(NEAR_GOALS))).replace(
        b"By 2028,", b"By 2027,"
    )
    past = tracker_issue(
        *(f"Past Plan {n}" for n in range(PAST_GOALS)), words="grid battery"
    ).replace(b"By 2028,", b"By 2025,")
    ingest(factory, far + b"\n\n" + near + b"\n\n" + past, NOW - timedelta(days=1))
    return factory


def ctx() -> Context:
    return Context(now=NOW, team_id="T1", user_id="U1")


@pytest.mark.parametrize("text", ["", "energy", "body:MIIT", "storage -battery"])
def test_a_deadlines_page_reads_the_window_only(filled: sessionmaker[Session], text: str) -> None:
    with filled() as session:
        where = build_filter(session, parse_query(text))[0] if text else None
        end = date(2028, 11, 29)
        listed = due_goals(session, TODAY, end, where)
        assert len(listed) == NEAR_GOALS
        for page_number in (1, 2, 3):
            session.expunge_all()  # nothing loaded before counts as free
            with counting(session) as reads:
                reply = deadlines(Request(session, ctx(), text, page_number))
            shown = listed[(page_number - 1) * PAGE_SIZE : page_number * PAGE_SIZE]
            assert [d.goal.ref for d in reply.deadlines] == [d.goal.ref for d in shown]
            assert reply.text.startswith(f"{NEAR_GOALS} deadlines in the next 24 months")
            # The window's ids (or its count), then the page's goals and their briefs' own.
            assert reads.goal_rows <= NEAR_GOALS + 2 * len(shown) + 1
            assert reads.goal_rows < FAR_GOALS


def test_pages_match_the_full_listing(filled: sessionmaker[Session]) -> None:
    with filled() as session:
        for text in ("", "energy", "grid", "body:MIIT -storage"):
            where = build_filter(session, parse_query(text))[0] if text else None
            listed = due_goals(session, date(2020, 1, 1), date(2040, 1, 1), where)
            for offset in range(0, len(listed) + PAGE_SIZE, PAGE_SIZE):
                page = due_goals_page(
                    session,
                    date(2020, 1, 1),
                    date(2040, 1, 1),
                    where,
                    limit=PAGE_SIZE,
                    offset=offset,
                )
                assert page.total == len(listed)
                expected = listed[offset : offset + PAGE_SIZE]
                assert [d.goal.id for d in page.goals] == [d.goal.id for d in expected]
    assert len(due_goals(session, date(2020, 1, 1), date(2040, 1, 1))) == (
        FAR_GOALS + NEAR_GOALS + PAST_GOALS
    )


def test_the_home_tab_loads_only_what_it_shows(filled: sessionmaker[Session]) -> None:
    later = Context(now=datetime(2027, 6, 1, 9, 0, tzinfo=UTC), team_id="T1", user_id="U1")
    with filled() as session, counting(session) as reads:
        home = build_home(session, later)  # 12 months ahead: the end of 2027
    assert home.deadlines_total == NEAR_GOALS
    assert len(home.deadlines) == NEAR_GOALS
    assert reads.goal_rows < FAR_GOALS


def test_the_scorecard_counts_in_the_database(filled: sessionmaker[Session]) -> None:
    with filled() as session, session.begin():
        past = due_goals(session, date(2025, 1, 1), date(2025, 12, 31))
        assert len(past) == PAST_GOALS
        status(Request(session, ctx(), f"{past[0].goal.ref} met", 1))
        near = due_goals(session, TODAY, date(2028, 11, 29))
        # Answered before its deadline (confirmed): scored too.
        status(Request(session, ctx(), f"{near[0].goal.ref} missed confirm", 1))
        session.expunge_all()
        with counting(session) as reads:
            reply = scorecard(Request(session, ctx(), "", 1))
        assert reply.text == "Scorecard: 1 met, 1 missed, 3 awaiting answer"
        titles = [s.title for s in reply.sections]
        assert titles[-1] == "By issuing body"
        assert reply.sections[-1].lines == ("MIIT: 1 met, 1 missed, 3 awaiting answer",)
        assert len(titles) == 1 + PAST_GOALS + 1  # each scored brief, then the bodies
        assert "[met]" in str(reply.sections[0].lines[0])
        # Counts come back as a few grouped rows; only the shown briefs' goals are read.
        assert reads.goal_rows <= 3 * (PAST_GOALS + 1) + 10
        assert reads.goal_rows < FAR_GOALS

        # Words narrow it the same way: `grid` is in the past briefs only.
        with counting(session) as reads:
            narrowed = scorecard(Request(session, ctx(), "grid", 1))
        assert narrowed.text == "Scorecard: 1 met, 3 awaiting answer"
        assert reads.goal_rows < FAR_GOALS
        other_team = Context(now=NOW, team_id="T2", user_id="U2")
        assert scorecard(Request(session, other_team, "", 1)).text == "Scorecard: 4 awaiting answer"
