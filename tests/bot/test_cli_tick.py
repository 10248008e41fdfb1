"""`policybot tick`: a dry run posts and marks nothing; a tick without Slack delivers the
console's own items and leaves Slack channels' items for Slack, saying so."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import select

from policybot.bot.cli import main
from policybot.data.db import make_engine, session_factory
from policybot.data.models import Delivery, DeliveryStatus
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request


def _remind_console(runner: CliRunner, db: str) -> None:
    result = runner.invoke(
        main, ["--db", db, "ask", "/policy remind tz UTC", "--now", "2026-11-29T09:00:00+00:00"]
    )
    assert result.exit_code == 0, result.output


def test_dry_run_shows_what_is_due_and_marks_nothing(runner: CliRunner, db: str) -> None:
    _remind_console(runner, db)
    at = ["--now", "2026-12-31T09:00:00+00:00"]
    dry = runner.invoke(main, ["--db", db, "tick", "--dry-run", *at])
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("(365 days left)") == 5
    assert "would be sent; nothing was posted or marked" in dry.output
    again = runner.invoke(main, ["--db", db, "tick", "--dry-run", *at])
    assert again.output == dry.output  # nothing was spent
    real = runner.invoke(main, ["--db", db, "tick", *at])
    assert real.output.count("(365 days left)") == 5
    would = re.search(r"dry run: (\d+) item\(s\)", dry.output)
    sent = re.search(r"tick: (\d+) item\(s\) sent in 1 message\(s\)", real.output)
    assert would and sent and would.group(1) == sent.group(1)
    after = runner.invoke(main, ["--db", db, "tick", "--dry-run", *at])
    assert "dry run: 0 item(s)" in after.output


def test_a_tick_without_slack_leaves_slack_channels_items_alone(runner: CliRunner, db: str) -> None:
    _remind_console(runner, db)
    engine = make_engine(db)
    sessions = session_factory(engine)
    slack = Context(
        now=datetime(2026, 11, 29, 9, 0, tzinfo=UTC), team_id="T1", channel_id="C1", user_id="U1"
    )
    with sessions() as session, session.begin():
        remind(Request(session, slack, "tz UTC", 1))
    result = runner.invoke(main, ["--db", db, "tick", "--now", "2026-12-31T09:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert "--- to #console ---" in result.output and "#C1" not in result.output
    assert "item(s) for Slack channels were left for Slack" in result.output
    with sessions() as session:
        statuses = {
            (team, status)
            for team, status in session.execute(select(Delivery.team_id, Delivery.status))
        }
    engine.dispose()
    assert ("T1", DeliveryStatus.PENDING) in statuses
    assert ("T1", DeliveryStatus.SENT) not in statuses
    assert ("console", DeliveryStatus.SENT) in statuses
