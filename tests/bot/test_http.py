"""End to end through the real HTTP endpoint: signed requests in, replies and Web API calls out."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import Ack, Respond
from slack_sdk.signature import SignatureVerifier

from policybot.bot.app import SORRY, WORKING, build_app
from policybot.bot.dispatcher import CommandDispatcher
from policybot.bot.server.routes import make_wsgi_app
from policybot.bot.services import Services
from policybot.handlers.commands import CommandRunner, ParsedCommand, parse_command
from policybot.handlers.context import Context
from policybot.handlers.replies import Reply
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, GatedRunner, LiveServer
from tests.conftest import NOW
from tests.fakeslack import FakeSlack


def slash_form(fake: FakeSlack, text: str, **extra: str) -> dict[str, str]:
    return {
        "token": "deprecated-verification-token",
        "team_id": "T1",
        "team_domain": "policy-team",
        "channel_id": "C100",
        "channel_name": "industrial-policy",
        "user_id": "U100",
        "user_name": "analyst",
        "command": "/policy",
        "text": text,
        "api_app_id": "A100",
        "is_enterprise_install": "false",
        "response_url": fake.response_url("cmd1"),
        "trigger_id": "111.222.abc",
        **extra,
    }


def post(
    url: str,
    body: str,
    *,
    secret: str | None = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> tuple[int, str]:
    headers = {"Content-Type": content_type}
    if secret is not None:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""
        headers |= {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def wait_for(condition: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


class CountingRunner(CommandRunner):
    def __init__(self, inner: CommandRunner) -> None:
        super().__init__(inner.sessions)
        self.calls: list[str] = []

    def execute(self, command: ParsedCommand, ctx: Context) -> Reply:
        self.calls.append(command.text)
        return super().execute(command, ctx)


def test_signed_slash_command_gets_search_reply(live: LiveServer, fake: FakeSlack) -> None:
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "storage")))
    assert status == 200
    payload = json.loads(body)
    assert payload["response_type"] == "ephemeral"
    assert "1 brief for storage" in payload["text"]
    rendered = json.dumps(payload["blocks"], ensure_ascii=False)
    assert "Action Plan for the High-Quality Development of the New Energy Storage" in rendered
    assert "储能" in rendered


def test_chinese_and_share(live: LiveServer, fake: FakeSlack) -> None:
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "储能 share")))
    assert status == 200
    payload = json.loads(body)
    assert payload["response_type"] == "in_channel"
    assert "Energy Storage" in json.dumps(payload["blocks"])


@pytest.mark.parametrize(
    "case",
    ["unsigned", "bad_signature", "replayed"],
)
def test_bad_requests_get_401_and_touch_nothing(
    services: Services, fake: FakeSlack, case: str
) -> None:
    counting = CountingRunner(services.runner)
    services.runner = counting
    app = build_app(services)
    fake.clear()
    with LiveServer(make_wsgi_app(app, services)) as server:
        body = urlencode(slash_form(fake, "storage"))
        if case == "unsigned":
            status, _ = post(f"{server.url}/slack/events", body, secret=None)
        elif case == "bad_signature":
            status, _ = post(f"{server.url}/slack/events", body, secret="not-the-secret")
        else:
            status, _ = post(
                f"{server.url}/slack/events", body, timestamp=int(time.time()) - 6 * 60
            )
    assert status == 401
    assert counting.calls == []
    assert [c.method for c in fake.calls] == []


def test_button_runs_its_command_and_responds(live: LiveServer, fake: FakeSlack) -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "policy-team"},
        "user": {"id": "U100", "name": "analyst", "team_id": "T1"},
        "api_app_id": "A100",
        "token": "deprecated",
        "container": {"type": "message", "message_ts": "1700000000.000100", "is_ephemeral": True},
        "trigger_id": "111.222.abc",
        "channel": {"id": "C100", "name": "industrial-policy"},
        "response_url": fake.response_url("button1"),
        "actions": [
            {
                "action_id": "policy_run:1",
                "block_id": "b1",
                "type": "button",
                "value": "show b2",
                "text": {"type": "plain_text", "text": "Show"},
                "action_ts": "1700000001.000200",
            }
        ],
    }
    status, _ = post(f"{live.url}/slack/events", urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    assert wait_for(lambda: fake.calls_to("response_url"))
    sent = fake.calls_to("response_url")[0].params
    assert sent["replace_original"] is False
    assert "Cultivate between three to five companies" in json.dumps(sent["blocks"])


def test_slow_command_acks_at_once_then_responds(services: Services, fake: FakeSlack) -> None:
    slow = GatedRunner(services.sessions)
    services.runner = slow
    app = build_app(services, ack_budget=0.2)
    with LiveServer(make_wsgi_app(app, services)) as server:
        status, body = post(f"{server.url}/slack/events", urlencode(slash_form(fake, "storage")))
        assert status == 200
        assert json.loads(body)["text"] == WORKING
        assert fake.calls_to("response_url") == []
        slow.release.set()
        assert wait_for(lambda: fake.calls_to("response_url"))
    sent = fake.calls_to("response_url")[0].params
    assert "1 brief for storage" in sent["text"]


def test_unexpected_error_is_friendly_and_logged_without_secrets(
    services: Services, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenRunner(CommandRunner):
        def execute(self, command: ParsedCommand, ctx: Context) -> Reply:
            raise RuntimeError(f"database exploded while using {BOT_TOKEN}")

    from policybot.bot.logs import SecretMaskingFilter

    caplog.handler.addFilter(SecretMaskingFilter([BOT_TOKEN, SIGNING_SECRET]))
    services.runner = BrokenRunner(services.sessions)
    app = build_app(services)
    with caplog.at_level(logging.ERROR), LiveServer(make_wsgi_app(app, services)) as server:
        status, body = post(f"{server.url}/slack/events", urlencode(slash_form(fake, "storage")))
    assert status == 200
    payload = json.loads(body)
    assert payload["text"] == SORRY
    assert "Traceback" not in body and "RuntimeError" not in body
    assert "database exploded" in caplog.text
    assert BOT_TOKEN not in caplog.text
    assert SIGNING_SECRET not in caplog.text


def test_health_and_readiness(live: LiveServer) -> None:
    with urllib.request.urlopen(f"{live.url}/healthz", timeout=5) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{live.url}/readyz", timeout=5) as response:
        assert json.loads(response.read())["status"] == "ready"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{live.url}/nothing-here", timeout=5)
    missing.value.close()
    assert missing.value.code == 404


def ack_text(ack: Ack) -> str:
    assert ack.response is not None
    body = ack.response.body
    return str(json.loads(body)["text"] if body.startswith("{") else body)


def test_a_saturated_pool_acks_at_once_and_answers_later(
    services: Services, fake: FakeSlack
) -> None:
    slow = GatedRunner(services.sessions)
    services.runner = slow
    dispatcher = CommandDispatcher(services, budget=5, workers=1)
    dispatcher.times.record("search", 9.0)  # the first goes to respond() at once
    ctx = Context(now=NOW, team_id="T1", channel_id="C100", user_id="U100")
    first = Ack()  # type: ignore[no-untyped-call]  # slack_bolt leaves __init__ unannotated
    dispatcher.answer(
        parse_command("storage"), ctx, first, Respond(response_url=fake.response_url("first"))
    )
    assert ack_text(first) == WORKING
    # It holds the only worker. `latest` has never been slow, but waiting on a busy pool
    # would hold its ack for the whole 5-second budget: it is acked at once.
    second = Ack()  # type: ignore[no-untyped-call]  # slack_bolt leaves __init__ unannotated
    started = time.monotonic()
    dispatcher.answer(
        parse_command("latest"), ctx, second, Respond(response_url=fake.response_url("second"))
    )
    assert time.monotonic() - started < 1.0
    assert ack_text(second) == WORKING
    assert fake.calls_to("response_url") == []
    slow.release.set()
    assert wait_for(lambda: len(fake.calls_to("response_url")) == 2)
    sent = {c.path.rsplit("/", 1)[1]: c.params["text"] for c in fake.calls_to("response_url")}
    assert "1 brief for storage" in sent["first"]
    assert "latest" in sent["second"].lower() or "newest" in sent["second"].lower()


def test_a_command_slow_lately_goes_to_respond_at_once(services: Services, fake: FakeSlack) -> None:
    slow = GatedRunner(services.sessions)
    services.runner = slow
    dispatcher = CommandDispatcher(services, budget=5, workers=4)
    dispatcher.times.record("deadlines", 1.8)  # as at 10,000 briefs
    ctx = Context(now=NOW, team_id="T1", channel_id="C100", user_id="U100")
    ack = Ack()  # type: ignore[no-untyped-call]  # slack_bolt leaves __init__ unannotated
    started = time.monotonic()
    dispatcher.answer(
        parse_command("deadlines"), ctx, ack, Respond(response_url=fake.response_url("d"))
    )
    assert time.monotonic() - started < 1.0  # not held for the 5-second budget
    assert ack_text(ack) == WORKING
    slow.release.set()
    assert wait_for(lambda: fake.calls_to("response_url"))
    assert "deadline" in fake.calls_to("response_url")[0].params["text"].lower()
