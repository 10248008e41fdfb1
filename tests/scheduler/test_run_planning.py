"""Interval alerts are planned as rule runs (docs/ledger-unit.md, section 8): one ledger row
per rule and plan interval for its pending alerts, one for its follow-ups, carrying the
columns posting derives the run's goals from; and planning counts exactly the alerts a row
per alert would have held.

The counts are checked against a reference worked out here from the goals' dates alone,
over random rules (leads, zones, alert times, kinds) and ticks with downtime between them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Delivery, Goal, GoalKind, ReminderRule
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.scheduler.kinds.alerts_planner import ReminderPlanner
from tests.scheduler.conftest import ingest, tracker_issue
from tests.scheduler.reference_planner import PythonReminderPlanner

START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
PLANNERS = [ReminderPlanner, PythonReminderPlanner]


def set_goals(factory: sessionmaker[Session], goals: list[dict[str, Any]]) -> list[int]:
    """Give the stored goals, in id order, these dates and kinds (keys: due, opens, kind)."""
    table = Goal.__table__
    assert isinstance(table, Table)
    with factory() as session, session.begin():
        ids = list(session.scalars(select(Goal.id).order_by(Goal.id)))
        assert len(ids) == len(goals)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("gid"))
            .values(
                due_on=bindparam("due"),
                precision=bindparam("precision"),
                window_start=bindparam("opens"),
                kind=bindparam("kind"),
            ),
            [
                {
                    "gid": goal_id,
                    "due": goal["due"],
                    "precision": "window" if goal.get("opens") else "day",
                    "opens": goal.get("opens"),
                    "kind": goal.get("kind", GoalKind.POLICY),
                }
                for goal_id, goal in zip(ids, goals, strict=True)
            ],
        )
    return ids


def add_rule(factory: sessionmaker[Session], channel: str, text: str) -> None:
    with factory() as session, session.begin():
        context = Context(now=START, team_id="T1", channel_id=channel, user_id="U1")
        remind(Request(session, context, text, 1))


def rows_of(session: Session, **where: Any) -> list[dict[str, Any]]:
    statement = select(Delivery).filter_by(**where).order_by(Delivery.id)
    return [
        {c.name: getattr(row, c.key) for c in Delivery.__table__.columns if c.name != "id"}
        for row in session.scalars(statement)
    ]


@pytest.mark.parametrize("planner", PLANNERS, ids=["batch", "python"])
def test_a_run_row_carries_the_contract_columns(
    factory: sessionmaker[Session], planner: type[ReminderPlanner]
) -> None:
    ingest(
        factory, tracker_issue("Near Plan", "Passed Plan", "Far Plan"), START - timedelta(days=1)
    )
    # 30 days before 2027-01-10 is 2026-12-11; 2026-12-05 is followed up on 2026-12-12; the
    # far goal's nearest lead is years away.
    set_goals(
        factory, [{"due": date(2027, 1, 10)}, {"due": date(2026, 12, 5)}, {"due": date(2031, 1, 1)}]
    )
    add_rule(factory, "C1", "energy leads 30,7,90 at 08:00 tz Europe/Berlin")
    first = START + timedelta(minutes=1)
    with factory() as session, session.begin():
        planner(session, first).plan()  # the rule's first plan: per-alert rows, marks set
        rule = session.scalars(select(ReminderRule)).one()
        marks = (rule.checked_until, rule.checked_revision)
        assert marks[0] == first and marks[1] is not None
        before = {row["dedupe_key"] for row in rows_of(session)}

    now = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)  # 10:00 in Berlin: both fell due
    with factory() as session, session.begin():
        assert planner(session, now).plan() == 2  # one alert, one follow-up
        runs = [row for row in rows_of(session) if row["dedupe_key"] not in before]
    common = {
        "team_id": "T1",
        "channel_id": "C1",
        "subscription_id": None,
        "reminder_id": rule.id,
        "goal_id": None,
        "brief_id": None,
        "edge": None,
        "status": "pending",
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
        "claimed_by": None,
        "claimed_at": None,
        "sent_at": None,
        "message_ts": None,
        "last_error": None,
        "covers_after": first,
        "covers_until": now,
        "revision_floor": marks[1],
        "plan_query": "energy",
        "plan_leads": "90,30,7",
        "plan_zone": "Europe/Berlin",
        "plan_minute": 8 * 60,
    }
    assert runs == [
        {
            "dedupe_key": f"remind-run:T1:C1:{rule.id}:2026-11-29T09:01:00+00:00",
            "kind": "reminder",
            "lead_days": 30,
            **common,
        },
        {
            "dedupe_key": f"followup-run:T1:C1:{rule.id}:2026-11-29T09:01:00+00:00",
            "kind": "followup",
            "lead_days": None,
            **common,
        },
    ]

    # Planned again with the same marks (another scheduler, a retried transaction): the
    # same keys, the rows kept. A minute on nothing more is due: no run row.
    with factory() as session, session.begin():
        session.execute(update(ReminderRule).values(checked_until=first))
        planner(session, now).plan()
        assert planner(session, now + timedelta(minutes=1)).plan() == 0
        assert len(rows_of(session)) == len(before) + 2


@pytest.mark.parametrize("planner", PLANNERS, ids=["batch", "python"])
def test_a_rule_without_a_revision_mark_keeps_a_row_per_alert(
    factory: sessionmaker[Session], planner: type[ReminderPlanner]
) -> None:
    """A run's goals are those of briefs up to the rule's revision mark: without one, the
    alerts are planned a row each, as before runs."""
    ingest(factory, tracker_issue("Near Plan"), START - timedelta(days=1))
    goal_id = set_goals(factory, [{"due": date(2027, 1, 10)}])[0]
    add_rule(factory, "C1", "energy leads 30,7 tz UTC")
    with factory() as session, session.begin():
        planner(session, START + timedelta(minutes=1)).plan()
        session.execute(update(ReminderRule).values(checked_revision=None))
    now = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)
    with factory() as session, session.begin():
        assert planner(session, now).plan() == 1
        planned = rows_of(session, kind="reminder", status="pending")
    assert [(row["goal_id"], row["lead_days"], row["covers_after"]) for row in planned] == [
        (goal_id, 30, None)
    ]


# -- the counts, against a reference worked out from the goals -----------------------------
ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Sydney"]
LEAD_CHOICES = [365, 180, 90, 60, 30, 14, 7, 3, 1]
GAPS_HOURS = [1, 6, 12, 24, 24, 36, 49, 24 * 3, 24 * 9, 24 * 20]


@dataclass(frozen=True)
class RefGoal:
    due: date
    opens: date | None
    company: bool


@dataclass
class Expected:
    alerts: int = 0
    folded: int = 0
    follow_ups: int = 0
    nearest: int | None = None


def at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The rule's alert time on a local day, in UTC (whole hours: no DST gap is hit)."""
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)


def expected_for(
    rule: ReminderRule, goals: list[RefGoal], company: bool, now: datetime
) -> Expected:
    """What a row per alert would have held for this rule: per goal edge not yet passed,
    one pending alert if any lead fell due in (start, now] (the nearest one; the others
    folded), and a follow-up a week after a deadline in the last month or so that passed
    since the rule was made."""
    assert rule.checked_until is not None
    zone = ZoneInfo(rule.timezone)
    start = max(rule.checked_until, rule.created_at)
    today = now.astimezone(zone).date()
    found = Expected()
    for goal in goals:
        if goal.company != company:
            continue
        for edge in (goal.due, goal.opens):
            if edge is None or edge < today:
                continue
            due = [
                lead
                for lead in rule.leads
                if start < at(edge - timedelta(days=lead), rule.at_minute, zone) <= now
            ]
            if due:
                found.alerts += 1
                found.folded += len(due) - 1
                found.nearest = min(due + ([found.nearest] if found.nearest else []))
        followed = today - timedelta(days=38) <= goal.due < today
        watched = goal.due >= rule.created_at.astimezone(zone).date()
        asked = at(goal.due + timedelta(days=7), rule.at_minute, zone)
        if followed and watched and start < asked <= now:
            found.follow_ups += 1
    return found


@pytest.mark.parametrize("seed", [7, 2026])
def test_pending_alerts_counted_are_those_a_row_per_alert_would_hold(
    factory: sessionmaker[Session], seed: int
) -> None:
    chance = random.Random(seed)
    count = 48
    ingest(
        factory,
        tracker_issue(*(f"Plan {n}" for n in range(count)), words="energy storage"),
        START - timedelta(days=1),
    )
    goals: list[RefGoal] = []
    for _ in range(count):
        due = START.date() + timedelta(days=chance.randrange(-20, 400))
        opens = due - timedelta(days=chance.randrange(30, 200)) if chance.random() < 0.2 else None
        goals.append(RefGoal(due, opens, chance.random() < 0.15))
    set_goals(
        factory,
        [
            {
                "due": g.due,
                "opens": g.opens,
                "kind": GoalKind.COMPANY if g.company else GoalKind.POLICY,
            }
            for g in goals
        ],
    )
    company_of: dict[str, bool] = {}
    for n in range(10):
        leads = sorted(chance.sample(LEAD_CHOICES, chance.randrange(2, 7)), reverse=True)
        hour = chance.choice([7, 9, 12, 18, 21])
        company = n % 4 == 3
        query = "energy kind:company" if company else "energy"
        channel = f"C{n}"
        company_of[channel] = company
        add_rule(
            factory,
            channel,
            f"{query} leads {','.join(map(str, leads))} at {hour:02d}:00 tz {chance.choice(ZONES)}",
        )
    now = START + timedelta(minutes=1)
    with factory() as session, session.begin():
        ReminderPlanner(session, now).plan()  # first plans: a row per alert, marks set
    seen = Expected()
    gaps = [chance.choice(GAPS_HOURS) for _ in range(13)]
    gaps.insert(6, 24 * 15)  # downtime of a fortnight at least once
    for gap in gaps:
        now += timedelta(hours=gap)
        with factory() as session, session.begin():
            rules = list(session.scalars(select(ReminderRule).order_by(ReminderRule.id)))
            session.expunge_all()
            keys_before = set(session.scalars(select(Delivery.dedupe_key)))
        expected = {
            rule.id: expected_for(rule, goals, company_of[rule.channel_id], now) for rule in rules
        }
        total = sum(e.alerts + e.follow_ups for e in expected.values())
        with factory() as session:
            session.begin()
            assert PythonReminderPlanner(session, now).plan() == total, now
            session.rollback()
        with factory() as session, session.begin():
            assert ReminderPlanner(session, now).plan() == total, now
            new = [r for r in rows_of(session) if r["dedupe_key"] not in keys_before]
        for rule in rules:
            mine = [r for r in new if r["reminder_id"] == rule.id]
            want = expected[rule.id]
            alert_runs = [
                r["lead_days"] for r in mine if r["kind"] == "reminder" and r["covers_after"]
            ]
            assert alert_runs == ([want.nearest] if want.alerts else []), (now, rule.id)
            follow_runs = [r for r in mine if r["kind"] == "followup"]
            assert all(r["covers_after"] is not None for r in follow_runs)
            assert len(follow_runs) == (1 if want.follow_ups else 0), (now, rule.id)
            assert sum(1 for r in mine if r["status"] == "folded") == want.folded, (now, rule.id)
            assert all(r["status"] in ("pending", "folded") for r in mine)
        seen.alerts += sum(e.alerts for e in expected.values())
        seen.folded += sum(e.folded for e in expected.values())
        seen.follow_ups += sum(e.follow_ups for e in expected.values())
    # The scenario exercises what it is meant to: alerts, folds after downtime, follow-ups.
    assert seen.alerts > 20 and seen.folded > 3 and seen.follow_ups > 3, seen
