"""A healthy idle server logs nothing per tick or per probe at `serve`'s INFO level; a
failing tick, a migration that runs and a token Bolt would really leave unused still log."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from policybot.bot.app import build_app
from policybot.bot.services import Services
from policybot.bot.slack_client import make_web_client
from policybot.data.db import make_engine, read_only, session_factory
from policybot.scheduler.delivery import TickReport
from policybot.scheduler.runner import (
    SchedulerStatus,
    quiet_executor_logs,
    start_background_ticker,
)
from policybot.scheduler.ticker import Ticker
from tests.bot.cli_server import CliServer, http
from tests.bot.test_http import slash_form
from tests.bot.test_workers import until
from tests.fakeslack import FakeSlack

TICKS = 5
PROBES = 10


class TickMarks:
    """Each tick moves an instant subscription's next_due_at to its `now`: one value a
    tick, written without a line of log."""

    def __init__(self, database_url: str) -> None:
        self.engine = read_only(make_engine(database_url))

    def __call__(self) -> set[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(text("SELECT next_due_at FROM subscriptions"))
            return {str(value) for value in rows.scalars().all()}

    def close(self) -> None:
        self.engine.dispose()


def test_an_idle_server_logs_nothing_per_tick_or_probe(tmp_path: Path, fake: FakeSlack) -> None:
    url = f"sqlite:///{tmp_path / 'idle.sqlite3'}"
    fake.add_channel_member("C100", "U100")
    with CliServer(url, fake, tmp_path / "serve.log", POLICYBOT_TICK_SECONDS="1") as server:
        marks = TickMarks(url)
        try:
            form = slash_form(fake, "subscribe storage instant")
            status, body = http(f"{server.url}/slack/events", urlencode(form))
            assert status == 200 and "Sorry" not in body, body
            until(lambda: len(marks()) == 1, 30, "the subscription to be stored")
            first = marks()
            until(lambda: marks() != first, 30, "a tick after the command")
            before = server.log().splitlines()  # the command's own lines are behind us

            seen: set[str] = set()
            probes = 0

            def ticked_and_probed() -> bool:
                nonlocal probes
                if probes < PROBES:
                    assert http(f"{server.url}/readyz")[0] == 200
                    probes += 1
                seen.update(marks())
                return len(seen) > TICKS and probes == PROBES

            until(ticked_and_probed, 60, f"{TICKS} ticks and {PROBES} probes")
            after = server.log().splitlines()
        finally:
            marks.close()
    new_lines = after[len(before) :]
    assert new_lines == [], "\n".join(new_lines)
    started = "\n".join(before)
    # What a start should say still says it: the migrations it ran, the scheduler starting.
    assert "Running upgrade" in started
    assert "Scheduler started" in started
    assert "`token` will be unused" not in started
    assert not fake.posted_messages()  # idle indeed: nothing new to deliver


class FailingTicker(Ticker):
    def tick(self, now: datetime) -> TickReport:
        raise RuntimeError("the database went away")


def test_a_failing_tick_still_logs_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'failing.sqlite3'}")
    status = SchedulerStatus()
    failed = threading.Event()

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                failed.set()

    spy = Spy()
    logging.getLogger().addHandler(spy)
    executors = logging.getLogger("apscheduler.executors")
    saved_level = executors.level
    caplog.set_level(logging.INFO)
    scheduler = start_background_ticker(
        FailingTicker(session_factory(engine), poster=None),  # type: ignore[arg-type]
        lambda: datetime.now(UTC),
        interval_seconds=3600,
        status=status,
    )
    try:
        assert failed.wait(30)
    finally:
        scheduler.shutdown()
        logging.getLogger().removeHandler(spy)
        executors.setLevel(saved_level)
        engine.dispose()
    messages = [r.getMessage() for r in caplog.records]
    assert "scheduler tick failed" in messages
    assert status.role == "failing"
    assert not [m for m in messages if m.startswith(("Running job", "Job "))], messages


def test_a_different_token_in_the_environment_still_warns(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="slack_bolt")
    client = make_web_client(services.settings, services.settings.bot_token)
    monkeypatch.setenv("SLACK_BOT_TOKEN", services.settings.bot_token or "")
    build_app(services, client=client, token_verification=False)
    assert not [r for r in caplog.records if "will be unused" in r.getMessage()]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-9999-another-workspace-token")
    build_app(services, client=client, token_verification=False)
    assert [r for r in caplog.records if "will be unused" in r.getMessage()]


def test_executor_lines_are_hidden_at_info_and_shown_at_debug() -> None:
    root, executors = logging.getLogger(), logging.getLogger("apscheduler.executors")
    saved = (root.level, executors.level)
    try:
        for level, shown in ((logging.INFO, False), (logging.DEBUG, True)):
            executors.setLevel(logging.NOTSET)
            root.setLevel(level)
            quiet_executor_logs()
            assert executors.isEnabledFor(logging.INFO) is shown, level
            assert executors.isEnabledFor(logging.WARNING)
    finally:
        root.setLevel(saved[0])
        executors.setLevel(saved[1])
