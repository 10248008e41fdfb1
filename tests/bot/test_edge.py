"""The hardened HTTP edge: malformed requests get a 4xx and one WARNING line, /metrics can be
protected (the WSGI app `serve` runs, in this process); and through the real server
(`policybot serve`, gunicorn with the limits it sets): oversized bodies are refused unread,
slow, trickling and idle clients hold no request thread and do not block the probes or
Slack's commands, and are closed after the idle timeout."""

from __future__ import annotations

import contextlib
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
from policybot.bot.server.routes import make_ops_wsgi_app, make_wsgi_app
from policybot.bot.services import Services
from policybot.bot.settings import Settings
from tests.bot.conftest import SIGNING_SECRET, LiveServer
from tests.bot.test_http import post, slash_form, wait_for
from tests.bot.test_workers import Served, request, until
from tests.fakeslack import FakeSlack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class EdgeServer(LiveServer):
    """The WSGI app `serve` runs, with the settings' limits, in this process."""

    def __init__(self, wsgi: Any, settings: Settings) -> None:
        super().__init__(wsgi)


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
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
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


def test_body_at_the_limit_is_served(services: Services, fake: FakeSlack) -> None:
    body = urlencode(slash_form(fake, "storage")).encode()
    edge_services(services, max_body_bytes=len(body))
    app = build_app(services)
    with EdgeServer(make_wsgi_app(app, services), services.settings) as server:
        status, text = raw_post(f"{server.url}/slack/events", body)
        assert status == 200 and "1 brief for storage" in text
        status, _ = raw_post(f"{server.url}/slack/events", body + b"&x=1")
        assert status == 413


# -- through `policybot serve` (gunicorn) -------------------------------------------------

REAL_MAX_BODY = 4096
REAL_IDLE_TIMEOUT = 2


@pytest.fixture(scope="module")
def real_fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture(scope="module")
def real(real_fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One worker with 4 request threads: far fewer than the slow clients sent at it."""
    folder = tmp_path_factory.mktemp("edge")
    served = Served(
        f"sqlite:///{folder / 'edge.sqlite3'}",
        real_fake,
        folder / "serve.log",
        {
            "POLICYBOT_MAX_BODY_BYTES": str(REAL_MAX_BODY),
            "POLICYBOT_IDLE_TIMEOUT": str(REAL_IDLE_TIMEOUT),
            "POLICYBOT_HTTP_THREADS": "4",
            "POLICYBOT_SCHEDULER": "0",
        },
        workers=1,
    )
    try:
        served.wait_ready()
        yield served
    finally:
        served.stop()


def test_oversized_body_refused_from_its_length_without_reading_it(real: Served) -> None:
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode() + b"\r\n"
        b"Content-Length: 104857600\r\n\r\n"
    )
    # 8 of the 100 MB sent: the answer cannot wait for the rest.
    line, _ = send_raw(real.port, head, b"text=abc", timeout=30)
    assert line.startswith(b"HTTP/1.1 413"), line


def test_oversized_chunked_body_refused(real: Served) -> None:
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: " + FORM.encode() + b"\r\n\r\n"
    )
    chunk = b"1000\r\n" + b"a" * REAL_MAX_BODY + b"\r\n"
    line, _ = send_raw(real.port, head, chunk * 2, timeout=30)
    assert line.startswith(b"HTTP/1.1 413"), line


class Trickler:
    """Slow clients: each connection sends one more header line every `every` seconds and
    never finishes its request; `silent` ones send nothing at all."""

    def __init__(self, port: int, trickling: int, silent: int, every: float = 0.5) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(trickling)]
        self.silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(silent)]
        self.every = every
        self.stop = threading.Event()
        self.lines_sent = 0
        for sock in self.sockets:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stop.wait(self.every):
            for n, sock in enumerate(self.sockets):
                with contextlib.suppress(OSError):  # the server hung up on it: as it should
                    sock.sendall(f"X-Slow-{self.lines_sent}-{n}: y\r\n".encode())
            self.lines_sent += 1

    def hung_up(self) -> int:
        """How many of the connections the server has closed."""
        closed = 0
        for sock in self.sockets + self.silent:
            sock.setblocking(False)
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                closed += 1
                continue
            assert data == b"" or data.startswith(b"HTTP/1.1 "), data  # never a stray byte
            closed += 1
        return closed

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.sockets + self.silent:
            sock.close()


def test_trickling_and_idle_clients_do_not_block_probes_or_commands(
    real: Served, real_fake: FakeSlack
) -> None:
    """50 connections trickling a header line each half second and 50 silent ones, against
    4 request threads: the probes and a signed command are answered meanwhile, and the
    server hangs up on every slow connection once its idle timeout has passed."""
    slow = Trickler(real.port, trickling=50, silent=50)
    try:
        until(lambda: slow.lines_sent >= 2, 10, "the slow clients to start trickling")
        assert request(f"{real.url}/healthz", timeout=10).status == 200
        assert request(f"{real.url}/readyz", timeout=10).status == 200
        answer = request(
            f"{real.url}/slack/events", urlencode(slash_form(real_fake, "storage")), timeout=10
        )
        assert answer.status == 200 and "1 brief for storage" in answer.body, answer
        until(lambda: slow.hung_up() == 100, 60, "the server to hang up on the slow clients")
        assert request(f"{real.url}/healthz", timeout=10).status == 200
    finally:
        slow.close()


def test_idle_connections_are_closed_after_the_idle_timeout(real: Served) -> None:
    sock = socket.create_connection(("127.0.0.1", real.port), timeout=30)
    with sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        assert sock.recv(1024) == b""  # the server hung up (before this socket's own timeout)


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
