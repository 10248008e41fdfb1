"""SIGTERM with a deferred (response_url) reply still queued: `policybot serve --workers 2`
takes nothing new meanwhile, sends the reply within POLICYBOT_DRAIN_SECONDS or abandons it
with one WARNING line, and exits on its own (never killed by its parent)."""

from __future__ import annotations

import http.client
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from policybot.bot.server import WORKER_HEADER
from policybot.bot.settings import Settings
from tests.bot.test_http import slash_form
from tests.bot.test_workers import Answer, Served, alive, assert_clean_stop, request, until
from tests.fakeslack import FakeSlack, Fault, RecordedCall


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def serve(fake: FakeSlack, tmp_path: Path, drain_seconds: int) -> Served:
    served = Served(
        f"sqlite:///{tmp_path / 'drain.sqlite3'}",
        fake,
        tmp_path / "serve.log",
        {"POLICYBOT_DRAIN_SECONDS": str(drain_seconds), "POLICYBOT_SCHEDULER": "0"},
    )
    served.wait_ready()
    return served


def deferred_subscribe(served: Served, fake: FakeSlack, slack_delay: float) -> list[Answer]:
    """A `subscribe` whose membership check waits `slack_delay` s on Slack: acked "Working
    on it" after the ack budget, answered through its response_url later. Returns once the
    command is in flight; the list gets its HTTP answer."""
    fake.add_channel_member("C100", "U100")
    fake.fail_next("conversations.members", Fault("timeout", delay=slack_delay))
    form = slash_form(fake, "subscribe storage instant", channel_id="C100")
    form["response_url"] = fake.response_url("C100")
    answers: list[Answer] = []
    client = threading.Thread(
        target=lambda: answers.append(request(f"{served.url}/slack/events", urlencode(form)))
    )
    client.start()
    until(lambda: fake.calls_to("conversations.members"), 20, "the command to be in flight")
    return answers


def replied(fake: FakeSlack) -> list[RecordedCall]:
    return [c for c in fake.calls if c.path == "/response/C100"]


def closed(connection: http.client.HTTPConnection) -> bool:
    """The server closed this idle connection (EOF, or a reset): waits up to its timeout."""
    assert connection.sock is not None
    try:
        return connection.sock.recv(1) == b""
    except ConnectionResetError:
        return True


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 1):
            return False
    except OSError:
        return True


def test_a_queued_reply_is_sent_while_nothing_new_is_taken(fake: FakeSlack, tmp_path: Path) -> None:
    served = serve(fake, tmp_path, drain_seconds=20)
    kept_alive: dict[str, http.client.HTTPConnection] = {}  # worker -> an idle connection
    try:

        def one_open_on_each_worker() -> bool:
            connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()  # the connection stays open (HTTP/1.1)
            worker = str(response.headers[WORKER_HEADER])
            if worker in kept_alive:
                connection.close()
            else:
                kept_alive[worker] = connection
            return set(kept_alive) == {"0", "1"}

        until(one_open_on_each_worker, 30, "a kept-alive connection to each worker")
        answers = deferred_subscribe(served, fake, slack_delay=6)
        served.process.send_signal(signal.SIGTERM)

        # Idle kept-alive connections are closed (after gunicorn's short linger for a
        # request already on its way), the one on the command's worker too while its reply
        # is still being worked on; new connections are refused.
        for connection in kept_alive.values():
            assert closed(connection)
        until(lambda: refused(served.port), 10, "new connections to be refused")
        assert not replied(fake)

        code = served.process.wait(40)
        assert code == 0, served.log()
        assert [a.status for a in answers] == [200] and "Working on it" in answers[0].body
        assert replied(fake) and "Subscribed" in str(replied(fake)[-1].params)
        log = served.log()
        assert "1 deferred replies were still queued when requests stopped: all sent" in log
        assert_clean_stop(log, 2)
    finally:
        for connection in kept_alive.values():
            connection.close()
        served.stop()


def test_a_reply_still_queued_after_the_drain_time_is_abandoned_with_one_warning(
    fake: FakeSlack, tmp_path: Path
) -> None:
    served = serve(fake, tmp_path, drain_seconds=3)
    try:
        answers = deferred_subscribe(served, fake, slack_delay=12)
        pids = served.workers()
        served.process.send_signal(signal.SIGTERM)
        code = served.process.wait(40)
        log = served.log()
        assert code == 0, log
        assert [a.status for a in answers] == [200] and "Working on it" in answers[0].body
        warnings = [line for line in log.splitlines() if "deferred replies" in line]
        assert len(warnings) == 1 and " WARNING " in warnings[0], log
        assert "1 of the 1 deferred replies still queued" in warnings[0]
        assert "abandoned" in warnings[0]
        # The worker gave up on its own, within its drain time: gunicorn never killed it.
        assert_clean_stop(log, 2)
        assert not [pid for pid in pids.values() if alive(pid)]
        assert not replied(fake)
    finally:
        served.stop()


def test_drain_seconds_setting() -> None:
    assert Settings.from_env({}, database_url="sqlite://").drain_seconds == 20
    settings = Settings.from_env({"POLICYBOT_DRAIN_SECONDS": "45"}, database_url="sqlite://")
    assert settings.drain_seconds == 45
    with pytest.raises(ValueError, match="POLICYBOT_DRAIN_SECONDS"):
        Settings.from_env({"POLICYBOT_DRAIN_SECONDS": "0"}, database_url="sqlite://")
