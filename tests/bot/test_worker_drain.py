"""SIGTERM with a deferred (response_url) reply still queued: `policybot serve --workers 2`
takes nothing new meanwhile, sends the reply within POLICYBOT_DRAIN_SECONDS or abandons it
with one WARNING line, and exits on its own (never killed by its parent)."""

from __future__ import annotations

import contextlib
import http.client
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import pytest

from policybot.bot.server.routes import WORKER_HEADER
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


def http_exchange(port: int, path: str) -> bytes | None:
    """One request on a new connection; everything the server sent back until it closed
    (None: refused or reset, which is a fine way to turn a client away while stopping)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            return received
    except OSError:
        return None


def whole_response(raw: bytes) -> bool:
    """An HTTP response and nothing else: status line first, body as long as declared."""
    head, _, body = raw.partition(b"\r\n\r\n")
    if not re.match(rb"HTTP/1\.[01] \d{3} ", head):
        return False
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return length is None or len(body) == int(length.group(1))


class SlowSink:
    """A response_url that takes its time: it holds each connection `hold` seconds before
    answering 200, recording every byte the client sent, so bytes a client writes by mistake
    while its connection is open are caught."""

    def __init__(self, hold: float = 1.0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.hold = hold
        self.received: list[bytes] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(self.hold)
            raw = b""
            with contextlib.suppress(OSError):  # the hold is over: answer
                while chunk := client.recv(65536):
                    raw += chunk
            with self.lock:
                self.received.append(raw)
            with contextlib.suppress(OSError):
                client.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                )

    def close(self) -> None:
        self.listener.close()


def whole_request(raw: bytes) -> bool:
    head, _, body = raw.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return bool(re.match(rb"POST /hook HTTP/1\.[01]\r\n", head)) and (
        length is not None and len(body) == int(length.group(1))
    )


def started(fake: FakeSlack, commands: int) -> bool:
    return len(fake.calls_to("conversations.members")) >= commands


def test_connections_opened_during_a_drain_get_whole_messages_only(
    fake: FakeSlack, tmp_path: Path
) -> None:
    """waitress's drain closed its wake-up pipe, and every wake-up after that wrote b"x" into
    whatever socket had taken the pipe's file number (a client saw `BadStatusLine:
    xHTTP/1.0 200 OK`). Here requests finish all through the drain, deferred replies open new
    connections (to a response_url that holds them open a while) and new connections reach
    the metrics listeners: every byte on any of them belongs to a whole HTTP message."""
    served = serve(fake, tmp_path, drain_seconds=20)
    sink = SlowSink()
    # Started a quarter second apart, answered in the ack (2.8 s) or later (3.3 s, "Working
    # on it" at 3 s): through the drain, requests keep finishing between replies that open
    # new connections.
    delays = [2.8 if n % 2 else 3.3 for n in range(12)]
    channels = [f"C{300 + n}" for n in range(len(delays))]
    for channel in channels:
        fake.add_channel_member(channel, "U100")
    fake.fail_next("conversations.members", *(Fault("timeout", delay=d) for d in delays))
    answers: dict[str, Answer] = {}
    clients = []
    try:
        for n, channel in enumerate(channels):
            form = slash_form(fake, "subscribe storage instant", channel_id=channel)
            form["response_url"] = sink.url

            def send(form: dict[str, str] = form, channel: str = channel) -> None:
                answers[channel] = request(f"{served.url}/slack/events", urlencode(form))

            clients.append(threading.Thread(target=send))
            clients[-1].start()
            until(partial(started, fake, n + 1), 20, f"command {n + 1} to be in flight")
            time.sleep(0.25)  # the clients' own pace, not a wait for the server
        served.process.send_signal(signal.SIGTERM)
        received: list[bytes] = []
        while served.process.poll() is None:
            for port in (served.metrics_port, served.metrics_port + 1, served.port):
                for path in ("/healthz", "/metrics"):
                    raw = http_exchange(port, path)
                    if raw:  # refused, reset or closed unanswered: turned away, not corrupted
                        received.append(raw)
        for client in clients:
            client.join(10)
        assert served.process.wait(10) == 0, served.log()
        broken = [raw[:80] for raw in received if not whole_response(raw)]
        assert not broken, broken
        assert sorted(answers) == sorted(channels), answers
        assert all(a.status == 200 for a in answers.values()), answers
        later = [c for c, a in answers.items() if "Working on it" in a.body]
        assert later, answers  # the drain had replies to post
        with sink.lock:
            posted = list(sink.received)
        assert len(posted) == len(later), posted
        assert all(whole_request(raw) for raw in posted), [raw[:60] for raw in posted]
        assert "could not send a reply" not in served.log()
    finally:
        for client in clients:
            client.join(10)
        sink.close()
        served.stop()
