"""Simultaneous answers to "was this target met?" for one goal all succeed (PostgreSQL, real
commits on separate connections). Each writer is held at a barrier right before it writes
the answer, after its own command has read what it needed: every writer then writes at
once, the race a read-then-insert lost (one IntegrityError, "Sorry"), without any sleep."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.db import make_engine, session_factory
from policybot.data.models import Goal, GoalAssessment, GoalAssessmentChange, GoalStatus
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.scorecard import status
from tests.scheduler.conftest import ingest, tracker_issue

WRITERS = 6
NOW = datetime(2029, 2, 1, 9, 0, tzinfo=UTC)  # the tracker issue's "by 2028" goals passed


def _hold_answer_writes(engine: Engine, barrier: threading.Barrier) -> None:
    """Every statement writing goal_assessments waits until all writers are there."""

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if (
            statement.lstrip()
            .upper()
            .startswith(("INSERT INTO GOAL_ASSESSMENTS", "UPDATE GOAL_ASSESSMENTS"))
        ):
            barrier.wait(timeout=30)

    event.listen(engine, "before_cursor_execute", before)


@pytest.mark.postgres
def test_simultaneous_answers_for_one_goal_all_succeed(fresh_postgres_url: str) -> None:
    engine = make_engine(fresh_postgres_url, pool_size=WRITERS + 2)
    factory: sessionmaker[Session] = session_factory(engine)
    ingest(factory, tracker_issue("Raced Target"), NOW - timedelta(days=900))
    with factory() as session:
        goal = session.scalars(select(Goal)).one()
    _hold_answer_writes(engine, threading.Barrier(WRITERS))
    answers = ["met", "missed", "unclear"]

    def answer(n: int) -> str:
        ctx = Context(
            now=NOW + timedelta(seconds=n), team_id="T1", channel_id="C1", user_id=f"U{n}"
        )
        with factory() as session, session.begin():
            return status(Request(session, ctx, f"{goal.ref} {answers[n % 3]}", 1)).text

    with ThreadPoolExecutor(WRITERS) as pool:
        replies = list(pool.map(answer, range(WRITERS)))
    assert all(f"{goal.ref} marked" in reply for reply in replies), replies
    with factory() as session:
        (current,) = session.scalars(select(GoalAssessment)).all()
        history = session.scalars(
            select(GoalAssessmentChange).order_by(GoalAssessmentChange.id)
        ).all()
        assert session.scalar(select(func.count()).select_from(GoalAssessment)) == 1
    assert len(history) == WRITERS
    # The current answer is the last one written, as the history tells it.
    last = history[-1]
    assert (current.status, current.answered_by) == (last.status, last.answered_by)
    assert current.status in {GoalStatus.MET, GoalStatus.MISSED, GoalStatus.UNKNOWN}
    engine.dispose()
