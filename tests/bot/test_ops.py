"""Operations: secrets never reach the logs; /readyz follows the database; metrics."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy.engine import make_url

from policybot.bot.app import build_app
from policybot.bot.logs import configure_logging
from policybot.bot.metrics import MeteredPoster
from policybot.bot.server.routes import make_wsgi_app
from policybot.bot.services import Services, build_services, build_ticker
from policybot.bot.settings import Settings
from policybot.handlers.commands import CommandRunner, ParsedCommand
from policybot.handlers.context import Context
from policybot.handlers.replies import Reply
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, LiveServer
from tests.bot.test_http import post, slash_form
from tests.conftest import NOW
from tests.fakeslack import FakeSlack, Fault
from tests.scheduler.conftest import ingest, tracker_issue


@pytest.fixture
def captured_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    configure_logging("DEBUG", [BOT_TOKEN, SIGNING_SECRET], "json")
    yield stream
    root.handlers[:], root.level = saved[0], saved[1]


def test_tokens_and_secrets_never_reach_the_logs(
    services: Services, fake: FakeSlack, captured_logs: io.StringIO
) -> None:
    class LeakyRunner(CommandRunner):
        def execute(self, command: ParsedCommand, ctx: Context) -> Reply:
            if "explode" in command.text:
                raise RuntimeError(f"failed with token={BOT_TOKEN} secret={SIGNING_SECRET}")
            return super().execute(command, ctx)

    services.runner = LeakyRunner(services.sessions)
    fake.add_channel_member("C100", "U100")
    app = build_app(services)
    with LiveServer(make_wsgi_app(app, services)) as server:
        for text in ("storage", "explode", "subscribe storage instant"):
            post(f"{server.url}/slack/events", urlencode(slash_form(fake, text)))
        post(f"{server.url}/slack/events", urlencode(slash_form(fake, "storage")), secret="wrong")
    ingest(services.sessions, tracker_issue("Logged Storage"), NOW + timedelta(minutes=1))
    fake.fail_next("chat.postMessage", Fault("error", error="invalid_auth"))
    build_ticker(services).tick(NOW + timedelta(minutes=2))
    logs = captured_logs.getvalue()
    assert "failed with token=[secret] secret=[secret]" in logs  # the error was logged, masked
    assert BOT_TOKEN not in logs
    assert SIGNING_SECRET not in logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)


class TcpProxy:
    """A loopback proxy in front of PostgreSQL that can be cut and restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.stalled = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.stalled:
                with self.lock:
                    self.sockets.append(client)  # held open, never answered: a partition
                continue
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def stall(self) -> None:
        """Like a network partition: connections open, and nothing ever comes back."""
        self.cut()
        self.stalled = True

    def restore(self) -> None:
        self.up = True
        self.stalled = False

    def close(self) -> None:
        self.stopped = True
        self.cut()
        self.listener.close()


def test_readyz_fails_while_database_is_unreachable_then_recovers(
    fresh_postgres_url: str, fake: FakeSlack
) -> None:
    url = make_url(fresh_postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    try:
        settings = Settings.from_env(
            {},
            database_url=url.set(port=proxy.port).render_as_string(hide_password=False),
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=fake.url,
        )
        services = build_services(settings, clock=lambda: NOW)
        app = build_app(services)
        with LiveServer(make_wsgi_app(app, services)) as server:
            assert _readyz(server.url) == (200, "current")
            proxy.cut()
            status, report = _readyz(server.url)
            assert status == 503 and report == "unreachable"
            proxy.restore()
            assert _readyz(server.url) == (200, "current")
        services.close()
    finally:
        proxy.close()


@pytest.fixture
def proxied(fresh_postgres_url: str, fake: FakeSlack) -> Iterator[tuple[TcpProxy, Services]]:
    """Services on PostgreSQL through a proxy the test can cut or stall."""
    url = make_url(fresh_postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    settings = Settings.from_env(
        {},
        database_url=url.set(port=proxy.port).render_as_string(hide_password=False),
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
    )
    services = build_services(settings, clock=lambda: NOW)
    try:
        yield proxy, services
    finally:
        services.close()
        proxy.close()


@pytest.mark.postgres
def test_a_partitioned_database_takes_no_request_thread_and_healthz_never_waits(
    proxied: tuple[TcpProxy, Services], caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL stops answering (connections open, nothing comes back): /readyz gives up
    after its connect timeout, one probe at a time (the others answer with its last result
    meanwhile), and /healthz never touches the database."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    proxy, services = proxied
    app = build_app(services)
    with LiveServer(make_wsgi_app(app, services)) as server, caplog.at_level(logging.INFO):
        assert _readyz(server.url) == (200, "current")
        proxy.stall()
        assert _readyz(server.url) == (503, "unreachable")  # within its connect timeout
        with ThreadPoolExecutor(8) as pool:
            probes = [pool.submit(_readyz, server.url) for _ in range(8)]
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as health:
                assert health.status == 200
            answers = [probe.result() for probe in probes]
        # One probe at a time waits on the database; the others answer at once: with what
        # the last one found, or that the one in flight has been waiting.
        assert all(status == 503 for status, _ in answers), answers
        reports = {r if r == "unreachable" else r.split(" (")[0] for _, r in answers}
        assert reports <= {"unreachable", "not answering"}, answers
        proxy.restore()
        assert _readyz(server.url) == (200, "current")
    outage = [r for r in caplog.records if "database is not answering" in r.getMessage()]
    assert len(outage) == 1 and outage[0].levelno == logging.WARNING, outage
    assert all(r.exc_info is None for r in caplog.records)


@pytest.mark.postgres
def test_a_down_database_gives_users_one_sentence_and_the_log_one_line(
    proxied: tuple[TcpProxy, Services], fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    from policybot.bot.services import DATABASE_DOWN

    proxy, services = proxied
    fake.add_channel_member("C100", "U100")
    app = build_app(services)
    with LiveServer(make_wsgi_app(app, services)) as server, caplog.at_level(logging.INFO):
        proxy.cut()
        services.engine.dispose()  # no pooled connection left from before the outage
        texts = []
        for command in ("storage", "latest", "subscribe storage daily", "deadlines"):
            status, body = post(f"{server.url}/slack/events", urlencode(slash_form(fake, command)))
            assert status == 200, body
            texts.append(json.loads(body)["text"])
    assert texts == [DATABASE_DOWN] * 4, texts
    outage = [r for r in caplog.records if "database" in r.getMessage().lower()]
    assert len(outage) == 1 and outage[0].levelno == logging.WARNING, outage
    assert "database is not answering" in outage[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(r.exc_info is None for r in caplog.records)


def _readyz(base: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=10) as response:
            body = json.loads(response.read())
            return response.status, body.get("migrations") or body.get("database")
    except urllib.error.HTTPError as error:
        with error:
            body = json.loads(error.read())
            return error.code, body.get("database")


def test_metrics_count_commands_and_posts(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    import urllib.request

    fake.add_channel_member("C100", "U100")
    post(f"{live.url}/slack/events", urlencode(slash_form(fake, "storage")))
    post(f"{live.url}/slack/events", urlencode(slash_form(fake, "subscribe storage instant")))
    ingest(services.sessions, tracker_issue("Metered Storage"), NOW + timedelta(minutes=1))
    build_ticker(services).tick(NOW + timedelta(minutes=2))
    with urllib.request.urlopen(f"{live.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'policybot_commands_total{command="search",outcome="ok"} 1.0' in text
    assert 'policybot_commands_total{command="subscribe",outcome="ok"} 1.0' in text
    assert "policybot_command_seconds_bucket" in text
    assert 'policybot_posts_total{kind="digest",outcome="sent"} 1.0' in text
    assert "policybot_paused_subscriptions 0.0" in text
    assert "policybot_due_reminders 0.0" in text


def test_config_check_masks_secrets(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from policybot.bot.cli import main

    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "POLICYBOT_DATABASE_URL": "postgresql+psycopg://u:hunter22secret@db/x",
    }
    result = CliRunner().invoke(main, ["config", "check"], env=env)
    assert result.exit_code == 0, result.output
    assert BOT_TOKEN not in result.output and SIGNING_SECRET not in result.output
    assert "hunter22secret" not in result.output
    assert "http    ready" in result.output
    assert "Socket Mode needs SLACK_APP_TOKEN" in result.output


def test_config_check_never_prints_any_part_of_a_secret() -> None:
    from click.testing import CliRunner

    from policybot.bot.cli import main

    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-93f1Qz-7Hk2Lw",
        "SLACK_APP_TOKEN": "xapp-1-Zr4Tq9Wm",
        "SLACK_SIGNING_SECRET": "a9Zq81LmX0pR",
        "POLICYBOT_METRICS_TOKEN": "Mt8Yp2Vn6Kd",
    }
    result = CliRunner().invoke(main, ["config", "check"], env=secrets)
    assert result.exit_code == 0, result.output
    for value in secrets.values():
        # Neither the start after Slack's public prefix (the old mask showed 5 characters)
        # nor the end of any secret.
        rest = value.removeprefix("xoxb-").removeprefix("xapp-")
        assert rest[:4] not in result.output and rest[-4:] not in result.output, value
    assert result.output.count("(set, hidden)") == 4


def test_config_check_warns_while_metrics_are_open() -> None:
    from click.testing import CliRunner

    from policybot.bot.cli import main

    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    open_metrics = CliRunner().invoke(main, ["config", "check"], env=env)
    assert "warning: /metrics is open" in open_metrics.output
    guarded = CliRunner().invoke(
        main, ["config", "check"], env={**env, "POLICYBOT_METRICS_TOKEN": "m3trics-token-abcdef"}
    )
    assert "/metrics is open" not in guarded.output


def test_serve_with_an_unreachable_database_prints_one_clear_line() -> None:
    from click.testing import CliRunner

    from policybot.bot.cli import main

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "POLICYBOT_DATABASE_URL": f"postgresql+psycopg://u:hunter22secret@127.0.0.1:{port}/x",
        "POLICYBOT_LOG_LEVEL": "WARNING",
    }
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: cannot reach the database at postgresql+psycopg://u:***@")
    assert "hunter22secret" not in result.output


def test_readyz_says_leader_while_the_first_tick_holds_the_lock(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    """It said "starting" until the first tick had finished, however long that took."""
    from policybot.bot.server.probes import readiness
    from policybot.bot.services import build_poster
    from policybot.scheduler.messages import Outgoing
    from policybot.scheduler.runner import start_background_ticker

    fake.add_channel_member("C100", "U100")
    post(f"{live.url}/slack/events", urlencode(slash_form(fake, "subscribe storage instant")))
    ingest(services.sessions, tracker_issue("Leading Storage"), NOW + timedelta(minutes=1))
    inner = build_poster(services)
    seen: list[str] = []
    posted = threading.Event()

    class Watching(MeteredPoster):
        def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
            seen.append(readiness(services)[1]["scheduler"])  # mid-tick, lock held
            posted.set()
            return super().post(team_id, channel_id, message)

    ticker = build_ticker(services, Watching(inner, services.metrics))
    scheduler = start_background_ticker(
        ticker, lambda: NOW + timedelta(minutes=2), 3600, services.scheduler
    )
    try:
        assert posted.wait(20)
    finally:
        scheduler.shutdown(wait=True)
    assert seen[0] == "leader", seen
