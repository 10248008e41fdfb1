"""Fixtures for the Slack edge: a fake Slack Web API, services on a temp SQLite database
with the demo corpus, and the real HTTP server (waitress) on a loopback port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from waitress.server import create_server

from policybot.bot.app import build_app
from policybot.bot.server import make_wsgi_app
from policybot.bot.services import Services, build_services
from policybot.bot.settings import Settings
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.replies import Reply
from tests.conftest import NOW
from tests.fakeslack import FakeSlack

BOT_TOKEN = "xoxb-1111-2222-supersecretbottoken"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A database URL for command-line tests (created on first use)."""
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The click runner, with no Slack settings or database URL leaking in."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "POLICYBOT_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, fake: FakeSlack) -> Settings:
    return Settings.from_env(
        {},
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = build_services(settings, clock=lambda: NOW)
    yield services
    services.close()


class GatedRunner(CommandRunner):
    """A command runner that holds every command until `release` is set (a slow command)."""

    def __init__(self, sessions: Any) -> None:
        super().__init__(sessions)
        self.release = threading.Event()

    def run(self, text: str, ctx: Context) -> Reply:
        self.release.wait(10)
        return super().run(text, ctx)


class LiveServer:
    def __init__(self, wsgi: object) -> None:
        self.server = create_server(wsgi, host="127.0.0.1", port=0, threads=4)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        stop_waitress(self.server, self.thread)


def stop_waitress(server: Any, thread: threading.Thread) -> None:
    """Close waitress from inside its own loop (closing its sockets from another thread
    races the loop's select: EBADF), then stop its worker threads."""

    def close_everything() -> None:
        for channel in list(server._map.values()):
            channel.close()

    server.trigger.pull_trigger(close_everything)
    thread.join(timeout=5)
    server.task_dispatcher.shutdown()


@pytest.fixture
def live(services: Services) -> Iterator[LiveServer]:
    app = build_app(services)
    with LiveServer(make_wsgi_app(app, services)) as server:
        yield server
