"""The hardened HTTP edge, through the real server (waitress on a loopback port with the
limits `serve` uses): malformed requests get a 4xx and one WARNING line, oversized bodies are
refused unread, idle connections do not block the probes, /metrics can be protected."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest

from policybot.bot.app import build_app
from policybot.bot.server import GracefulServer, make_ops_wsgi_app, make_wsgi_app, waitress_limits
from policybot.bot.services import Services
from policybot.bot.settings import Settings
from policybot.handlers.context import Context
from policybot.handlers.replies import Reply
from tests.bot.conftest import SIGNING_SECRET, GatedRunner
from tests.bot.test_http import post, slash_form, wait_for
from tests.fakeslack import FakeSlack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class EdgeServer:
    """The server `serve` runs (GracefulServer with the settings' waitress limits)."""

    def __init__(self, wsgi: Any, settings: Settings) -> None:
        self.server = GracefulServer(wsgi, "127.0.0.1", 0, **waitress_limits(settings))
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> EdgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self.thread.join(timeout=15)


def edge_services(services: Services, **changes: Any) -> Services:
    services.settings = replace(services.settings, **changes)
    return services


@pytest.fixture
def edge(services: Services, fake: FakeSlack) -> Iterator[EdgeServer]:
    app = build_app(services)
    fake.clear()  # build_app's auth.test
    with EdgeServer(make_wsgi_app(app, services), services.settings) as server:
        yield server


def raw_post(
    url: str, body: bytes, *, signed: bool = True, content_type: str = FORM, **headers: str
) -> tuple[int, str]:
    sent = {"Content-Type": content_type, **headers}
    if signed:
        ts = str(int(time.time()))
        sent |= {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(ts, body)}
    request = urllib.request.Request(url, data=body, headers=sent, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def sign(timestamp: str, body: bytes) -> str:
    """Slack's v0 signature over the raw bytes (slack_sdk's signer decodes them first)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def block_actions(fake: FakeSlack, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "policy-team"},
        "user": {"id": "U100", "name": "analyst", "team_id": "T1"},
        "api_app_id": "A100",
        "container": {"type": "message", "message_ts": "1700000000.000100"},
        "trigger_id": "111.222.abc",
        "channel": {"id": "C100", "name": "industrial-policy"},
        "response_url": fake.response_url("button1"),
        "actions": [{"action_id": "policy_run:1", "type": "button", "value": "show b2"}],
    }
    return payload | changes


def interactive(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


MALFORMED: dict[str, tuple[bytes, str, int]] = {
    # name: (body, content type, status when signed)
    "text_not_utf8": (b"command=%2Fpolicy&text=\xff&team_id=T1", FORM, 400),
    "payload_bad_json": (b"payload=%7Bnot-json", FORM, 400),
    "payload_a_list": (interactive([1, 2]), FORM, 400),
    "json_not_an_object": (b'["event_callback"]', JSON, 400),
    "json_broken": (b'{"type": "event_callback", ', JSON, 400),
    "event_a_string": (
        json.dumps(
            {"type": "event_callback", "team_id": "T1", "event": "app_home_opened"}
        ).encode(),
        JSON,
        400,
    ),
    "team_a_number": (
        json.dumps({"type": "event_callback", "team": 7, "event": {"type": "x"}}).encode(),
        JSON,
        400,
    ),
    "authorizations_a_number": (
        json.dumps(
            {"type": "event_callback", "authorizations": 3, "event": {"type": "x"}}
        ).encode(),
        JSON,
        400,
    ),
    "wrong_content_type": (b"command=%2Fpolicy&text=storage", "text/plain", 415),
    "no_content_type": (b"command=%2Fpolicy&text=storage", "", 415),
    "empty_body": (b"", FORM, 400),
    "command_not_a_string": (
        json.dumps({"command": ["/policy"], "text": "storage"}).encode(),
        JSON,
        400,
    ),
}


def assert_one_warning_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    # waitress.queue warns whenever a request waits for a free thread: load, not this request.
    problems = [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name != "waitress.queue"
    ]
    assert len(problems) == 1, [r.getMessage() for r in problems]
    assert problems[0].levelno == logging.WARNING
    assert all(r.exc_info is None and r.exc_text is None for r in caplog.records)
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_request_gets_4xx_and_one_warning(
    edge: EdgeServer, fake: FakeSlack, caplog: pytest.LogCaptureFixture, case: str, signed: bool
) -> None:
    body, content_type, signed_status = MALFORMED[case]
    with caplog.at_level(logging.INFO):
        status, text = raw_post(
            f"{edge.url}/slack/events", body, signed=signed, content_type=content_type
        )
    assert status == (signed_status if signed else 401), text
    assert "Traceback" not in text
    assert_one_warning_no_traceback(caplog)
    assert fake.calls == []


@pytest.mark.parametrize(
    "changes",
    [
        {"actions": []},
        {"actions": "policy_run:1"},
        {"actions": [{"value": "show b2"}]},
        {"state": {"values": "not-an-object"}},
        {"state": "values"},
        {"view": {"state": {"values": {"block": "x"}}}},
        {"user": "U100"},
        {"type": 5},
    ],
    ids=lambda c: json.dumps(c)[:40],
)
def test_signed_malformed_interactive_payload_gets_400(
    edge: EdgeServer, fake: FakeSlack, caplog: pytest.LogCaptureFixture, changes: dict[str, Any]
) -> None:
    with caplog.at_level(logging.INFO):
        status, text = raw_post(
            f"{edge.url}/slack/events", interactive(block_actions(fake, **changes))
        )
    assert status == 400, text
    assert_one_warning_no_traceback(caplog)
    assert fake.calls == []


def test_well_formed_button_still_works(edge: EdgeServer, fake: FakeSlack) -> None:
    status, _ = raw_post(f"{edge.url}/slack/events", interactive(block_actions(fake)))
    assert status == 200
    assert wait_for(lambda: fake.calls_to("response_url"))
    assert "Cultivate between three to five companies" in json.dumps(
        fake.calls_to("response_url")[0].params["blocks"]
    )


@pytest.mark.parametrize("timestamp", ["soon", "12.5", "-1", "1e9", ""])
def test_non_numeric_timestamp_is_401(
    edge: EdgeServer, fake: FakeSlack, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    body = urlencode(slash_form(fake, "storage")).encode()
    signature = sign(timestamp, body)
    with caplog.at_level(logging.INFO):
        status, _ = raw_post(
            f"{edge.url}/slack/events",
            body,
            signed=False,
            **{"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature},
        )
    assert status == 401
    assert_one_warning_no_traceback(caplog)


def test_get_on_the_events_path_is_refused(edge: EdgeServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{edge.url}/slack/events", timeout=5)
    refused.value.close()
    assert refused.value.code == 405


def send_raw(
    port: int, head: bytes, body: bytes = b"", timeout: float = 5.0
) -> tuple[bytes, float]:
    """Send bytes on a plain socket; the first response line and how long it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0], time.monotonic() - started


def test_oversized_body_refused_from_its_length_without_reading_it(edge: EdgeServer) -> None:
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode() + b"\r\n"
        b"Content-Length: 104857600\r\n\r\n"
    )
    line, took = send_raw(edge.server.port, head, b"text=abc")  # 8 of the 100 MB sent
    assert line.startswith(b"HTTP/1.1 413"), line
    assert took < 2.0  # the answer came at once, not after a read of 100 MB


def test_oversized_chunked_body_refused(services: Services) -> None:
    edge_services(services, max_body_bytes=4096)
    app = build_app(services)
    with EdgeServer(make_wsgi_app(app, services), services.settings) as server:
        head = (
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: " + FORM.encode() + b"\r\n\r\n"
        )
        chunk = b"1000\r\n" + b"a" * 4096 + b"\r\n"
        line, _ = send_raw(server.server.port, head, chunk * 2)
    assert line.startswith(b"HTTP/1.1 413"), line


def test_body_at_the_limit_is_served(services: Services, fake: FakeSlack) -> None:
    body = urlencode(slash_form(fake, "storage")).encode()
    edge_services(services, max_body_bytes=len(body))
    app = build_app(services)
    with EdgeServer(make_wsgi_app(app, services), services.settings) as server:
        status, text = raw_post(f"{server.url}/slack/events", body)
        assert status == 200 and "1 brief for storage" in text
        status, _ = raw_post(f"{server.url}/slack/events", body + b"&x=1")
        assert status == 413


def test_idle_connections_do_not_block_health_checks(edge: EdgeServer) -> None:
    idle = [socket.create_connection(("127.0.0.1", edge.server.port)) for _ in range(110)]
    try:
        # Half of them started a request and stalled.
        for sock in idle[::2]:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        with urllib.request.urlopen(f"{edge.url}/healthz", timeout=5) as response:
            assert response.status == 200
        assert time.monotonic() - started < 2.0
    finally:
        for sock in idle:
            sock.close()


def test_idle_connections_are_closed_after_the_idle_timeout(services: Services) -> None:
    # waitress's own clock decides; a 1-second limit keeps the wait short and bounded.
    edge_services(services, idle_timeout=1)
    app = build_app(services)
    with EdgeServer(make_wsgi_app(app, services), services.settings) as server:
        sock = socket.create_connection(("127.0.0.1", server.server.port), timeout=10)
        with sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
            started = time.monotonic()
            assert sock.recv(1024) == b""  # the server hung up
            assert time.monotonic() - started < 8.0


def get_metrics(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def test_metrics_behind_a_token(services: Services, caplog: pytest.LogCaptureFixture) -> None:
    edge_services(services, metrics_token="scrape-me-0123456789")
    app = build_app(services)
    with EdgeServer(make_wsgi_app(app, services), services.settings) as server:
        assert get_metrics(f"{server.url}/metrics")[0] == 401
        assert get_metrics(f"{server.url}/metrics", "wrong-token-0123456789")[0] == 401
        status, text = get_metrics(f"{server.url}/metrics", "scrape-me-0123456789")
    assert status == 200 and "policybot_commands" in text


def test_metrics_on_their_own_listener(services: Services) -> None:
    edge_services(services, metrics_port=1)  # any port: its presence moves /metrics
    app = build_app(services)
    with (
        EdgeServer(make_wsgi_app(app, services), services.settings) as main,
        EdgeServer(make_ops_wsgi_app(services), services.settings) as ops,
    ):
        assert get_metrics(f"{main.url}/metrics")[0] == 404
        status, text = get_metrics(f"{ops.url}/metrics")
        assert status == 200 and "policybot_commands" in text
        assert get_metrics(f"{ops.url}/healthz")[0] == 200
        assert get_metrics(f"{ops.url}/slack/events")[0] == 404


def test_only_configured_command_names_are_answered(
    edge: EdgeServer, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        status, body = post(
            f"{edge.url}/slack/events", urlencode(slash_form(fake, "storage", command="/policyx"))
        )
    assert status == 200
    text = json.loads(body)["text"]
    assert "/policyx" in text and "/policy" in text and "brief" not in text
    assert all(r.levelno < logging.ERROR for r in caplog.records)


def test_command_name_comes_from_settings(services: Services, fake: FakeSlack) -> None:
    edge_services(services, commands=("/briefs",))
    app = build_app(services)
    with EdgeServer(make_wsgi_app(app, services), services.settings) as server:
        _, body = post(
            f"{server.url}/slack/events", urlencode(slash_form(fake, "storage", command="/briefs"))
        )
        assert "1 brief for storage" in json.loads(body)["text"]
        _, body = post(
            f"{server.url}/slack/events", urlencode(slash_form(fake, "storage", command="/policy"))
        )
        assert "brief for" not in json.loads(body)["text"]


class StartedGatedRunner(GatedRunner):
    def __init__(self, sessions: Any) -> None:
        super().__init__(sessions)
        self.started = threading.Event()

    def run(self, text: str, ctx: Context) -> Reply:
        self.started.set()
        return super().run(text, ctx)


def test_stop_lets_a_running_request_answer_and_refuses_new_ones(
    services: Services, fake: FakeSlack
) -> None:
    slow = StartedGatedRunner(services.sessions)
    services.runner = slow
    app = build_app(services, ack_budget=8)
    server = EdgeServer(make_wsgi_app(app, services), services.settings)
    answers: list[tuple[int, str]] = []
    with server:
        client = threading.Thread(
            target=lambda: answers.append(
                post(f"{server.url}/slack/events", urlencode(slash_form(fake, "storage")))
            )
        )
        client.start()
        assert slow.started.wait(5)
        server.server.stop()
        assert wait_for(lambda: not server.server.server.accepting)
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{server.url}/healthz", timeout=2)
        slow.release.set()
        client.join(10)
    assert answers and answers[0][0] == 200
    assert "1 brief for storage" in json.loads(answers[0][1])["text"]
