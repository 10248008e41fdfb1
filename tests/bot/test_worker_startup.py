"""How `policybot serve --workers 2` starts: the search index is warm before any worker
serves (built once in the arbiter, caught up in each worker), and a server that cannot start
(Slack refuses the token) stops with one clear line before forking a worker, instead of
restarting workers forever."""

from __future__ import annotations

import errno
import json
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from benchmarks.corpus import generate_issue
from policybot.bot.dispatcher import WORKING
from policybot.bot.server.startup import startup_failure
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from tests.bot.conftest import BOT_TOKEN
from tests.bot.test_workers import Answer, Served, search, until
from tests.fakeslack import FakeSlack, Fault

UNIQUE_WORD = "zeppelinium"  # in no generated brief: only in the one ingested after the fork


def ingest(url: str, text: str, name: str) -> None:
    engine = make_engine(url)
    with session_factory(engine)() as session, session.begin():
        ingest_bytes(session, text.encode(), name, datetime.now(UTC))
    engine.dispose()


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A SQLite store of a few hundred generated briefs."""
    url = f"sqlite:///{tmp_path / 'briefs.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    ingest(url, generate_issue(300, seed=11), "generated.txt")
    return url


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def lines_of(log: str, pattern: str) -> list[int]:
    return [n for n, line in enumerate(log.splitlines()) if re.search(pattern, line)]


def test_workers_serve_warm_and_catch_up_with_briefs_written_after_the_fork(
    store: str, fake: FakeSlack, tmp_path: Path
) -> None:
    served = Served(store, fake, tmp_path / "serve.log", {"POLICYBOT_LOAD_DEMO": "0"})
    try:
        served.wait_ready()
        log = served.log()
        built = re.findall(r"the server: search index at revision (\d+) \(built\)", log)
        assert len(built) == 1, log
        for index in (0, 1):
            # Each worker reached the parent's revision by catching up (not building), and
            # only then served.
            warm = lines_of(
                log,
                rf"worker {index}: search index at revision {built[0]} "
                rf"\(caught up from revision {built[0]}\)",
            )
            serving = lines_of(log, rf"worker {index} \(pid \d+\) serving HTTP")
            assert len(warm) == 1 and len(serving) == 1 and warm[0] < serving[0], log

        # Each worker's first search is answered in its ack, not "Working on it".
        first: dict[str, Answer] = {}

        def first_from_both(word: str) -> bool:
            answer = search(served, fake, word)
            assert answer.status == 200, answer.body
            assert answer.worker is not None
            first.setdefault(answer.worker, answer)
            return set(first) == {"0", "1"}

        until(lambda: first_from_both("battery"), 30, "a search answered by each worker")
        for worker, answer in first.items():
            text = json.loads(answer.body)["text"]
            assert text != WORKING and "for battery" in text, (worker, text)

        # A brief written after the fork: every worker reads the new revision and finds it.
        one = generate_issue(1, seed=12).replace("At a glance: ", f"At a glance: {UNIQUE_WORD} ")
        ingest(store, one, "after-the-fork.txt")
        found: set[str] = set()

        def found_by_both() -> bool:
            answer = search(served, fake, UNIQUE_WORD)
            text = json.loads(answer.body)["text"]
            assert f"1 brief for {UNIQUE_WORD}" in text, (answer.worker, text)
            found.add(str(answer.worker))
            return found == {"0", "1"}

        until(found_by_both, 30, "both workers to find the new brief")
    finally:
        served.stop()


def test_a_refused_token_stops_the_server_with_one_line_before_any_worker(
    store: str, fake: FakeSlack, tmp_path: Path
) -> None:
    # Slack refuses the token: the arbiter's auth.test fails before it forks a worker.
    fake.fail_next("auth.test", *[Fault("error", error="invalid_auth")] * 50)
    served = Served(store, fake, tmp_path / "serve.log", {"POLICYBOT_LOAD_DEMO": "0"})
    try:
        code = served.process.wait(90)
    except subprocess.TimeoutExpired:
        served.process.send_signal(signal.SIGTERM)
        raise AssertionError(f"serve kept running:\n{served.log()}") from None
    finally:
        served.stop()
    log = served.log()
    assert code == 1, log
    errors = [line for line in log.splitlines() if "Error" in line or " ERROR " in line]
    assert len(errors) == 1, log
    assert errors[0].startswith("Error: Slack refused the bot token"), errors
    assert "auth.test" in errors[0] and "invalid_auth" in errors[0], errors[0]
    assert "Traceback" not in log and BOT_TOKEN not in log
    assert len(fake.calls_to("auth.test")) == 1
    assert "Booting worker" not in log and not served.workers()


def test_an_unreachable_slack_api_is_named_not_taken_for_the_port(tmp_path: Path) -> None:
    """It once read "cannot listen on 0.0.0.0:PORT" (the API's connection error is an
    OSError, like a bind error)."""
    from click.testing import CliRunner

    from policybot.bot.cli import main
    from tests.bot.conftest import SIGNING_SECRET
    from tests.bot.test_workers import free_port

    api = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api,
        "POLICYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'slack-down.sqlite3'}",
        "POLICYBOT_LOG_LEVEL": "CRITICAL",
    }
    result = CliRunner().invoke(main, ["serve", "--port", str(free_port())], env=env)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: Slack's API at {api} did not answer auth.test: ")
    assert "Connection refused" in lines[0] and "cannot listen" not in lines[0]


def test_an_unreachable_database_is_named_without_its_password() -> None:
    engine = create_engine("postgresql+psycopg://policybot:hunter2secret@127.0.0.1:1/test")
    with pytest.raises(DBAPIError) as raised:
        engine.connect()
    cause = startup_failure(raised.value)
    assert cause.startswith("the database is unreachable: ") and "\n" not in cause, cause
    assert "127.0.0.1" in cause and "hunter2secret" not in cause, cause


def test_a_worker_that_cannot_start_stops_the_server_with_its_reason(
    store: str, fake: FakeSlack, tmp_path: Path
) -> None:
    """Its metrics port is taken: the worker logs why in one ERROR line and gunicorn stops
    the server (exit 1) instead of starting it again and again."""
    served = Served(store, fake, tmp_path / "serve.log", {"POLICYBOT_LOAD_DEMO": "0"}, workers=1)
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", served.metrics_port))
        taken.listen()
        try:
            code = served.process.wait(90)
        except subprocess.TimeoutExpired:
            served.process.send_signal(signal.SIGTERM)
            raise AssertionError(f"serve kept running:\n{served.log()}") from None
        finally:
            served.stop()
    log = served.log()
    assert code == 1, log
    reasons = [line for line in log.splitlines() if "could not start" in line]
    assert len(reasons) == 1 and " ERROR " in reasons[0], log
    assert f"worker 0 could not start: OSError: [Errno {errno.EADDRINUSE}]" in reasons[0]
    assert log.count("Booting worker") == 1, log  # not restarted in a loop
    assert "Traceback" not in log and BOT_TOKEN not in log
