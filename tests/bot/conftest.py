"""Fixtures for the Slack edge: a fake Slack Web API, services on a temp SQLite database
with the demo corpus, and the WSGI app in-process on a loopback port (a threaded stdlib
server: what depends on gunicorn itself is tested through `policybot serve`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import pytest
from click.testing import CliRunner

from policybot.bot.app import build_app
from policybot.bot.server.ops_listener import OpsListener
from policybot.bot.server.routes import make_wsgi_app
from policybot.bot.services import Services, build_services
from policybot.bot.settings import Settings
from policybot.handlers.commands import CommandRunner, ParsedCommand
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

    def execute(self, command: ParsedCommand, ctx: Context) -> Reply:
        self.release.wait(10)
        return super().execute(command, ctx)


class LiveServer:
    """The WSGI app on a loopback port, a thread per connection, in this process."""

    def __init__(self, wsgi: Any) -> None:
        self.listener = OpsListener(wsgi, "127.0.0.1", 0)
        self.port = self.listener.port
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()


@pytest.fixture
def live(services: Services) -> Iterator[LiveServer]:
    app = build_app(services)
    with LiveServer(make_wsgi_app(app, services)) as server:
        yield server
