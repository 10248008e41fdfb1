"""Reminder planning reads only the goals that can fire, whatever the store and the rules.

Statements are counted with an engine event listener and rows with a session event that
reads each result through: a store of many far-off goals and a few near ones, ticked when
nothing is due and when the near ones fall due, with one rule and with many.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, select
from sqlalchemy.engine import Result
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from policybot.data.models import Delivery
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.scheduler.kinds.alerts_planner import plan_reminders
from tests.scheduler.conftest import ingest, tracker_issue

RULES_AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
FAR_GOALS = 150  # due 2035: no lead of any rule reaches them for years
NEAR_GOALS = 3  # due March 2027: their 90-day alert is on 2026-12-31


@dataclass
class Reads:
    statements: list[str] = field(default_factory=list)
    goal_rows: int = 0  # rows returned by statements that read the goals table
    document_rows: int = 0  # rows returned by statements that read search documents


@contextmanager
def counting(engine: Engine, session: Session) -> Iterator[Reads]:
    reads = Reads()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        reads.statements.append(statement)

    def on_execute(state: ORMExecuteState) -> Result[Any] | None:
        if not state.is_select:
            return None
        sql = str(state.statement).lower()
        frozen = state.invoke_statement().freeze()
        rows = len(frozen().all())
        if "from goals" in sql or "join goals" in sql:
            reads.goal_rows += rows
        if "search_documents" in sql:
            reads.document_rows += rows
        return frozen()

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(session, "do_orm_execute", on_execute)
    try:
        yield reads
    finally:
        event.remove(session, "do_orm_execute", on_execute)
        event.remove(engine, "before_cursor_execute", on_statement)


def goal_statements(reads: Reads) -> list[str]:
    return [s for s in reads.statements if "goals" in s.lower()]


def data_statements(reads: Reads) -> list[str]:
    """What was asked of the tables (not the test's savepoints)."""
    return [
        s for s in reads.statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))
    ]


def fill_store(factory: sessionmaker[Session]) -> None:
    far = tracker_issue(*(f"Far Plan {n}" for n in range(FAR_GOALS))).replace(
        b"By 2028,", b"By 2035,"
    )
    near = tracker_issue(*(f"Near Plan {n}" for n in range(NEAR_GOALS))).replace(
        b"By 2028,", b"By March 2027,"
    )
    ingest(factory, far + b"\n\n" + near, RULES_AT - timedelta(days=1))


def add_rules(factory: sessionmaker[Session], count: int, team: str = "T1") -> None:
    with factory() as session, session.begin():
        for n in range(count):
            context = Context(now=RULES_AT, team_id=team, channel_id=f"C{n}", user_id="U1")
            remind(Request(session, context, "energy leads 90,30 tz UTC", 1))


def plan(factory: sessionmaker[Session], engine: Engine, now: datetime) -> tuple[int, Reads]:
    with factory() as session, session.begin(), counting(engine, session) as reads:
        planned = plan_reminders(session, now)
    return planned, reads


@pytest.mark.parametrize("rules", [1, 40])
def test_planning_reads_no_goal_that_cannot_fire(
    factory: sessionmaker[Session], engine: Engine, rules: int
) -> None:
    fill_store(factory)
    add_rules(factory, rules)
    plan(factory, engine, RULES_AT + timedelta(minutes=1))  # the rules' first plan: marks set

    # Minutes later nothing is due and nothing was written: not one goal is read.
    planned, idle = plan(factory, engine, RULES_AT + timedelta(minutes=2))
    assert planned == 0
    assert goal_statements(idle) == [] and idle.goal_rows == 0 and idle.document_rows == 0
    assert len(data_statements(idle)) == 2  # the search revision and the rules, grouped

    # A month on, the near goals' 90-day alerts fall due: only they are read, and only
    # their briefs' search documents.
    planned, due = plan(factory, engine, datetime(2026, 12, 31, 9, 0, tzinfo=UTC))
    assert planned == NEAR_GOALS * rules
    assert due.goal_rows == NEAR_GOALS
    assert due.document_rows == NEAR_GOALS
    with factory() as session:
        alerted = set(session.scalars(select(Delivery.lead_days)))
    assert alerted == {90}


def test_statements_do_not_grow_with_rules(factory: sessionmaker[Session], engine: Engine) -> None:
    """One rule or forty, the same statements: rules are read grouped, terms tested once."""
    fill_store(factory)
    counts: list[tuple[int, int]] = []
    for team, channel_rules in (("T1", 1), ("T2", 40)):
        add_rules(factory, channel_rules, team)
        started = RULES_AT + timedelta(minutes=1)
        plan(factory, engine, started)
        _, idle = plan(factory, engine, started + timedelta(minutes=1))
        _, due = plan(factory, engine, datetime(2026, 12, 31, 9, 0, tzinfo=UTC))
        counts.append((len(data_statements(idle)), len(data_statements(due))))
        with factory() as session, session.begin():
            session.execute(delete(Delivery))
    assert counts[0] == counts[1]


def test_new_briefs_are_read_once_then_not_again(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    """Briefs written since a rule last looked are read by the next plan only."""
    fill_store(factory)
    add_rules(factory, 3)
    plan(factory, engine, RULES_AT + timedelta(minutes=1))
    late = tracker_issue("Late Plan", published=date(2026, 11, 1)).replace(
        b"By 2028,", b"By January 2027,"
    )
    ingest(factory, late, RULES_AT + timedelta(hours=2))
    planned, after_ingest = plan(factory, engine, RULES_AT + timedelta(hours=2, minutes=1))
    # The 90-day lead (2026-11-02) passed before the goal was known: one "newly tracked"
    # alert per channel, and the goal is the only one read.
    assert planned == 3
    assert after_ingest.goal_rows == 1
    _, next_tick = plan(factory, engine, RULES_AT + timedelta(hours=2, minutes=2))
    assert next_tick.goal_rows == 0 and goal_statements(next_tick) == []
