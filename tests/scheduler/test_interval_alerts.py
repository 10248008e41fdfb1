"""Interval alerts planned by the database are the rows the Python planner writes.

One store, rules with different leads, zones, alert times and kinds, deadlines (and window
openings) spread over the next year and a few just past; ticks every day, then after
downtime of days and weeks. At each tick the Python planner runs first and is rolled back,
then the database planner runs and is kept: the ledger rows of the two must be the same,
and the count of pending alerts each reports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Delivery, Goal, GoalKind
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.scheduler.kinds.alerts_planner import ReminderPlanner
from tests.scheduler.conftest import ingest, tracker_issue
from tests.scheduler.reference_planner import PythonReminderPlanner

START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
RULES = [
    ("C1", "energy tz UTC"),
    ("C2", "storage leads 90,30,7 at 08:30 tz Asia/Shanghai"),
    ("C3", "leads 30,7,1 at 18:00 tz America/New_York"),
    ("C4", "energy kind:company leads 60,30 tz UTC"),
    ("C5", "-hydrogen leads 365,180,90,30,7,1 at 07:00 tz Europe/Berlin"),
    ("C6", "hydrogen tz UTC"),
]
LEDGER = [c for c in Delivery.__table__.columns if c.name != "id"]
KIND = [c.name for c in LEDGER].index("kind")
STATUS = [c.name for c in LEDGER].index("status")


def spread_goals(factory: sessionmaker[Session]) -> None:
    """Goals due from a fortnight ago to a year on, every fifth a window, every seventh a
    company's own plan; briefs about energy storage or hydrogen."""
    ingest(factory, tracker_issue(*(f"Storage Plan {n}" for n in range(40))), START)
    ingest(
        factory,
        tracker_issue(*(f"Hydrogen Plan {n}" for n in range(20)), words="hydrogen energy"),
        START,
    )
    goals = Goal.__table__
    assert isinstance(goals, Table)
    with factory() as session, session.begin():
        ids = list(session.scalars(select(Goal.id).order_by(Goal.id)))
        rows: list[dict[str, Any]] = []
        for n, goal_id in enumerate(ids):
            due = date(2026, 11, 15) + timedelta(days=(n * 37) % 380)
            window = n % 5 == 0
            rows.append(
                {
                    "gid": goal_id,
                    "due": due,
                    "precision": "window" if window else "day",
                    "opens": due - timedelta(days=120) if window else None,
                    "kind": GoalKind.COMPANY if n % 7 == 0 else GoalKind.POLICY,
                }
            )
        session.execute(
            update(goals)
            .where(goals.c.id == bindparam("gid"))
            .values(
                due_on=bindparam("due"),
                precision=bindparam("precision"),
                window_start=bindparam("opens"),
                kind=bindparam("kind"),
            ),
            rows,
        )


def ledger(session: Session) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in session.execute(select(*LEDGER))}


def test_database_plan_matches_python_plan(factory: sessionmaker[Session]) -> None:
    spread_goals(factory)
    with factory() as session, session.begin():
        for channel, text in RULES:
            context = Context(now=START, team_id="T1", channel_id=channel, user_id="U1")
            remind(Request(session, context, text, 1))
    ticks = [START + timedelta(minutes=1)]  # the rules' first plan (the Python planner's)
    ticks += [START + timedelta(days=d, hours=h) for d in range(1, 12) for h in (0, 12)]
    ticks += [START + timedelta(days=18), START + timedelta(days=60), START + timedelta(days=61)]
    ticks += [START + timedelta(days=130, hours=3), START + timedelta(days=200)]
    compared = alerts_seen = folded_seen = follow_ups_seen = 0
    for now in ticks:
        with factory() as session:
            session.begin()
            before = ledger(session)
            python_count = PythonReminderPlanner(session, now).plan()
            python_rows = ledger(session) - before
            session.rollback()
        with factory() as session, session.begin():
            database_count = ReminderPlanner(session, now).plan()
            database_rows = ledger(session) - before
        assert database_rows == python_rows, now
        assert database_count == python_count, now
        compared += 1
        kinds = [(row[KIND], row[STATUS]) for row in database_rows]
        alerts_seen += sum(
            1 for kind, status in kinds if kind == "reminder" and status == "pending"
        )
        folded_seen += sum(1 for kind, status in kinds if status == "folded")
        follow_ups_seen += sum(1 for kind, _ in kinds if kind == "followup")
    # The scenario exercises what it is meant to: alerts, folds after downtime, follow-ups.
    assert compared == len(ticks)
    assert alerts_seen > 50 and folded_seen > 5 and follow_ups_seen > 5, (
        alerts_seen,
        folded_seen,
        follow_ups_seen,
    )
