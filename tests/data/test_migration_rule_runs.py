"""Migration 0022 (rule runs) is additive and can be undone without alerting anything twice:
a sent run's alerts go back as the sent per-alert rows they stand for, and a run not yet
sent refuses the downgrade rather than be lost. Both engines, through the real planner,
ticker and migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.db import downgrade, make_engine, session_factory, upgrade
from policybot.data.models import AlertItem, Delivery, Goal, ReminderRule
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.scheduler.kinds.alerts_planner import plan_reminders
from policybot.scheduler.messages import AlertBatch
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue

CREATED = datetime(2026, 1, 1, tzinfo=UTC)
LEAD_30 = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)  # 30 days before 2026-06-30
LEAD_7 = datetime(2026, 6, 23, 9, 0, tzinfo=UTC)


def _leads_posted(poster: RecordingPoster, channel: str = "C1") -> list[int | None]:
    return [
        alert.lead_days
        for _, posted_to, message in poster.posts
        if posted_to == channel and isinstance(message, AlertBatch)
        for alert in message.alerts
    ]


def _add_rule(factory: sessionmaker[Session], channel: str, at: datetime) -> None:
    with factory() as session, session.begin():
        remind(
            Request(
                session,
                Context(now=at, team_id="T1", channel_id=channel, user_id="U1"),
                "leads 30,7 tz UTC",
                1,
            )
        )


def _round_trip(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        factory = session_factory(engine)
        _add_rule(factory, "C1", CREATED)
        raw = tracker_issue("Migrated Plan", published=date(2026, 1, 5)).replace(
            b"By 2028,", b"By June 2026,"
        )
        ingest(factory, raw, datetime(2026, 1, 6, tzinfo=UTC))
        poster = RecordingPoster()
        ticker = Ticker(factory, poster, worker_id="w", max_workers=1)
        ticker.tick(datetime(2026, 1, 7, 9, 0, tzinfo=UTC))  # the rule's first plan
        ticker.tick(LEAD_30)  # an interval plan: the 30-day alert goes as a rule run
        assert _leads_posted(poster) == [30]
        with factory() as session:
            (goal_id,) = session.scalars(select(Goal.id).where(Goal.due_on == date(2026, 6, 30)))
            run = session.scalars(select(Delivery).where(Delivery.covers_after.is_not(None))).one()
            assert run.status == "sent"
            assert session.scalars(select(AlertItem.goal_id)).all() == [goal_id]

        # A channel whose rule is new: its first plan writes per-alert rows (pending), which
        # every revision knows how to post.
        _add_rule(factory, "C2", datetime(2026, 6, 20, tzinfo=UTC))
        with factory() as session, session.begin():
            plan_reminders(session, LEAD_7)
        # A planned run not yet sent cannot be expressed before 0022: the downgrade refuses.
        with pytest.raises(RuntimeError, match="not sent yet"):
            downgrade(engine, "0021")
        with factory() as session, session.begin():
            # As if C1's run was never planned: its marks go back too.
            session.execute(
                text("DELETE FROM deliveries WHERE covers_after IS NOT NULL AND status = 'pending'")
            )
            session.execute(
                update(ReminderRule)
                .where(ReminderRule.channel_id == "C1")
                .values(checked_until=LEAD_30)
            )

        downgrade(engine, "0021")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT dedupe_key, kind, status, goal_id, lead_days, edge FROM deliveries")
            ).all()
        sent_key = f"remind:T1:C1:{goal_id}:due:2026-06-30:30"
        assert (sent_key, "reminder", "sent", goal_id, 30, "due") in [tuple(r) for r in rows]
        assert not any(str(r[0]).startswith("remind-run:") for r in rows)
        pending_c2 = [r for r in rows if r[2] == "pending" and ":C2:" in str(r[0])]
        assert [(r[1], r[4]) for r in pending_c2] == [("reminder", 7)]

        upgrade(engine)
        # Planned from scratch (as a rule whose marks were lost), the 30-day lead is known
        # to be sent: only the 7-day lead goes, once.
        with factory() as session, session.begin():
            session.execute(
                update(ReminderRule)
                .where(ReminderRule.channel_id == "C1")
                .values(checked_until=None, checked_revision=None)
            )
        ticker.tick(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
        ticker.tick(LEAD_7)
        ticker.tick(LEAD_7)
        assert _leads_posted(poster) == [30, 7]
        # C2's row pending across the round trip went out once (its 30-day lead passed
        # before the rule was made: folded, not sent).
        assert _leads_posted(poster, "C2") == [7]
    finally:
        engine.dispose()


def test_0022_round_trip_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'runs.sqlite3'}")


@pytest.mark.postgres
def test_0022_round_trip_on_postgresql(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
