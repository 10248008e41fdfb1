"""Deferred (response_url) replies are bounded per worker: with POLICYBOT_MAX_DEFERRED_REPLIES
replies waiting on a slow Slack, the next command is shed at once with "I'm busy right now"
(counted in /metrics as outcome="shed"), and commands are served again once they are sent.
Through `policybot serve` and the fake Slack with latency on every call."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from policybot.bot.dispatcher import BUSY
from tests.bot.test_http import slash_form
from tests.bot.test_workers import Served, database_url, request, until
from tests.fakeslack import FakeSlack

__all__ = ["database_url"]  # the fixture: SQLite, and PostgreSQL when configured

LIMIT = 3
# Slack's answers take this long once the server is up: long enough that the deferred
# replies are still in flight when the test looks (the fake wakes them when it stops).
SLOW_SLACK_SECONDS = 120.0


def button(fake: FakeSlack, key: str, value: str = "help") -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "policy-team"},
        "user": {"id": "U100", "name": "analyst", "team_id": "T1"},
        "api_app_id": "A100",
        "container": {"type": "message", "message_ts": "1700000000.000100"},
        "trigger_id": f"trigger.{key}",
        "channel": {"id": "C100", "name": "industrial-policy"},
        "response_url": fake.response_url(key),
        "actions": [{"action_id": "policy_run:1", "type": "button", "value": value}],
    }
    return urlencode({"payload": json.dumps(payload)})


def shed_count(metrics: str) -> float:
    found = re.findall(r'policybot_commands_total\{[^}]*outcome="shed"[^}]*\} (\S+)', metrics)
    return sum(float(n) for n in found)


@pytest.fixture
def slow_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def served(slow_slack: FakeSlack, database_url: str, tmp_path: Path) -> Iterator[Served]:
    server = Served(
        database_url,
        slow_slack,
        tmp_path / "serve.log",
        {"POLICYBOT_SCHEDULER": "0", "POLICYBOT_MAX_DEFERRED_REPLIES": str(LIMIT)},
        workers=1,
    )
    try:
        server.wait_ready()
        yield server
    finally:
        slow_slack.stop()  # wakes the replies still waiting on it, so the drain is quick
        server.stop()


def calls_held(fake: FakeSlack, since: int, count: int) -> None:
    """Wait until `count` calls made after the first `since` have reached the slow Slack:
    each deferred reply makes one (a lookup its command needs, or the reply itself) and
    waits there on the answer."""
    until(lambda: len(fake.calls) - since >= count, 30, f"{count} calls to reach Slack")


def test_commands_beyond_the_bound_are_shed_at_once(served: Served, slow_slack: FakeSlack) -> None:
    metrics_url = f"http://127.0.0.1:{served.metrics_port}/metrics"
    assert shed_count(request(metrics_url).body) == 0
    # Served while Slack is quick: Bolt has checked the token (auth.test) before it slows.
    assert not busy(served, slow_slack)
    slow_slack.latency = SLOW_SLACK_SECONDS
    before = len(slow_slack.calls)
    for n in range(LIMIT):
        assert request(f"{served.url}/slack/events", button(slow_slack, f"held{n}")).status == 200
    # Each of them waits on Slack: LIMIT replies are deferred.
    calls_held(slow_slack, before, LIMIT)

    command = request(f"{served.url}/slack/events", urlencode(slash_form(slow_slack, "storage")))
    assert command.status == 200
    assert json.loads(command.body)["text"] == BUSY

    assert request(f"{served.url}/slack/events", button(slow_slack, "late")).status == 200
    late = slow_slack.wait_for_call(lambda call: call.path.endswith("/response/late"), 30)
    assert late is not None and late.params["text"] == BUSY

    assert shed_count(request(metrics_url).body) == 2

    # Slack answers (the fake wakes what it held as it stops): the replies are sent, and
    # commands are served again.
    slow_slack.stop()
    until(lambda: not busy(served, slow_slack), 30, "commands to be served again")
    log = served.log()
    assert log.count("shedding commands") == 1, log
    assert "Traceback" not in log


def busy(served: Served, fake: FakeSlack) -> bool:
    answer = request(f"{served.url}/slack/events", urlencode(slash_form(fake, "storage")))
    assert answer.status == 200
    text = json.loads(answer.body)["text"]
    assert text == BUSY or "1 brief for storage" in text, text
    return bool(text == BUSY)
