"""Hostile and malformed requests through the real server (`policybot serve`, gunicorn): each
is answered with a 4xx (unsigned or unreadable) or acked politely (signed but odd), with at
most one WARNING line and never a traceback, and the server still answers a good command
afterwards."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.bot.conftest import SIGNING_SECRET
from tests.bot.test_workers import Served
from tests.fakeslack import FakeSlack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# Replaced at send time by a response_url of the fake Slack (its port is known only then).
RESPONSE_URL = "responseurlplaceholder"
# Each request carries its own trigger or event id: the server tags log lines with it.
_ids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def sign(timestamp: bytes, body: bytes, secret: str = SIGNING_SECRET) -> bytes:
    base = b"v0:" + timestamp + b":" + body
    return b"v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest().encode()


@dataclass(frozen=True)
class Case:
    """One request: its body, content type and (unless `headers` replace them) a good
    signature; `status` is what it must be answered with."""

    body: bytes
    status: int
    content_type: str = FORM
    headers: dict[str, bytes] | None = None
    polite: bool = field(default=False)  # a 200 whose text must be a sentence for a person


def now() -> bytes:
    return str(int(time.time())).encode()


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def slash(**changes: str | None) -> bytes:
    base: dict[str, str | None] = {
        "team_id": "T1",
        "channel_id": "C100",
        "user_id": "U100",
        "user_name": "analyst",
        "command": "/policy",
        "text": "help",
        "api_app_id": "A100",
        "response_url": RESPONSE_URL,
        "trigger_id": unique("cmd."),
    }
    fields = base | changes
    return form(**{k: v for k, v in fields.items() if v is not None})


def interactive(payload: object) -> bytes:
    return form(payload=json.dumps(payload))


MISSING = object()


def without(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    merged = base | changes
    return {k: v for k, v in merged.items() if v is not MISSING}


BUTTON: dict[str, Any] = {
    "type": "block_actions",
    "team": {"id": "T1", "domain": "policy-team"},
    "user": {"id": "U100", "name": "analyst", "team_id": "T1"},
    "api_app_id": "A100",
    "container": {"type": "message", "message_ts": "1700000000.000100"},
    "trigger_id": "111.222.abc",
    "channel": {"id": "C100", "name": "industrial-policy"},
    "response_url": RESPONSE_URL,
    "actions": [{"action_id": "policy_run:1", "type": "button", "value": "help"}],
}


def button(**changes: Any) -> bytes:
    return interactive(without(BUTTON, **({"trigger_id": unique("button.")} | changes)))


def action(**fields: Any) -> list[dict[str, Any]]:
    return [{"action_id": "policy_run:1", "type": "button"} | fields]


NOTE_VIEW: dict[str, Any] = {
    "id": "V1",
    "type": "modal",
    "team_id": "T1",
    "callback_id": "policy_note",
    "private_metadata": json.dumps({"ref": "b2", "channel": "C100"}),
    "state": {"values": {"note": {"value": {"type": "plain_text_input", "value": "a note"}}}},
}


def submission(callback_id: str = "policy_note", **view_changes: Any) -> bytes:
    view = without(NOTE_VIEW, callback_id=callback_id, **view_changes)
    return interactive(
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U100", "name": "analyst"},
            "api_app_id": "A100",
            "trigger_id": unique("form."),
            "view": view,
        }
    )


def submission_without_view() -> bytes:
    return interactive({"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "U1"}})


def event(inner: Any) -> bytes:
    envelope: dict[str, Any] = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A100",
        "event_id": unique("Ev"),
        "event_time": 1700000000,
    }
    if inner is not MISSING:
        envelope["event"] = inner
    return json.dumps(envelope).encode()


def link_shared(links: Any) -> bytes:
    return event(
        {"type": "link_shared", "channel": "C100", "message_ts": "1.2", "user": "U100"}
        | {"links": links}
    )


GOOD = slash()
# A link of a demo brief (the storage one): an unfurl of it calls chat.unfurl.
STORED = "https://www.ess-news.com/2024/10/11/key-trends-in-battery-energy-storage-in-china/"

CASES: dict[str, Case] = {
    # Headers: missing, non-ASCII, not UTF-8, stale, wrong.
    "no signature headers": Case(GOOD, 401, headers={}),
    "signature only": Case(GOOD, 401, headers={"X-Slack-Signature": b"v0=abc"}),
    "timestamp only": Case(GOOD, 401, headers={"X-Slack-Request-Timestamp": b"1"}),
    "signature non-ascii": Case(GOOD, 401, headers={"X-Slack-Signature": "v0=é".encode()}),
    "signature not utf-8": Case(GOOD, 401, headers={"X-Slack-Signature": b"v0=\xff\xfe"}),
    "signature empty": Case(GOOD, 401, headers={"X-Slack-Signature": b""}),
    "signature v1": Case(GOOD, 401, headers={"X-Slack-Signature": b"v1=" + b"0" * 64}),
    "signature wrong secret": Case(
        GOOD, 401, headers={"X-Slack-Signature": sign(now(), GOOD, "another-secret")}
    ),
    "timestamp superscript digits": Case(
        GOOD, 401, headers={"X-Slack-Request-Timestamp": "¹²³".encode()}
    ),
    "timestamp fullwidth digits": Case(
        GOOD, 401, headers={"X-Slack-Request-Timestamp": "１７００".encode()}
    ),
    "timestamp not utf-8": Case(GOOD, 401, headers={"X-Slack-Request-Timestamp": b"\xff17"}),
    "timestamp stale": Case(
        GOOD, 401, headers={"X-Slack-Request-Timestamp": str(int(time.time()) - 3600).encode()}
    ),
    "timestamp enormous": Case(GOOD, 401, headers={"X-Slack-Request-Timestamp": b"9" * 400}),
    # Content types and encodings.
    "text/plain": Case(GOOD, 415, content_type="text/plain"),
    "no content type": Case(GOOD, 415, content_type=""),
    "multipart": Case(GOOD, 415, content_type="multipart/form-data; boundary=x"),
    "content type non-ascii": Case(GOOD, 415, content_type="applicätion/json"),
    "form not utf-8": Case(b"command=%2Fpolicy&text=\xff\xfe&team_id=T1", 400),
    "json not utf-8": Case(b'{"type": "event_callback", "x": "\xff"}', 400, JSON),
    "empty body": Case(b"", 400),
    "json broken": Case(b'{"type": ', 400, JSON),
    "json a list": Case(b"[1, 2]", 400, JSON),
    "json a string": Case(b'"event_callback"', 400, JSON),
    # Interactive payloads that are not JSON objects.
    "payload not json": Case(form(payload="{not json"), 400),
    "payload a list": Case(interactive([{"type": "block_actions"}]), 400),
    "payload a string": Case(interactive("block_actions"), 400),
    "payload a number": Case(interactive(7), 400),
    "payload null": Case(interactive(None), 400),
    "payload empty": Case(form(payload=""), 400),
    # block_actions with parts missing or odd.
    "button without actions": Case(button(actions=MISSING), 400),
    "button without team": Case(button(team=MISSING), 200),
    "button without user": Case(button(user=MISSING), 200),
    "button without container": Case(button(container=MISSING), 200),
    "button without channel": Case(button(channel=MISSING, container=MISSING), 200),
    "button actions a dict": Case(button(actions={"action_id": "policy_run:1"}), 400),
    "button actions strings": Case(button(actions=["policy_run:1"]), 400),
    "button value a number": Case(button(actions=action(value=7)), 200),
    "button value an object": Case(button(actions=action(value={"a": 1})), 200),
    "button value a list": Case(button(actions=action(value=["show", "b2"])), 200),
    "button value enormous": Case(button(actions=action(value="show " + "b" * 20000)), 200),
    "button value control chars": Case(button(actions=action(value="show \x00\x1b[2J")), 200),
    "button action_id a number": Case(button(actions=[{"action_id": 5, "value": "help"}]), 400),
    "button unknown action": Case(button(actions=[{"action_id": "nobody's", "value": "x"}]), 200),
    "button response_url a number": Case(button(response_url=5), 400),
    "button trigger_id a list": Case(button(trigger_id=["x"]), 400),
    # view_submission (forms) with parts missing or of the wrong shape.
    "form without view": Case(submission_without_view(), 400),
    "form without state": Case(submission(state=MISSING), 200),
    "form without metadata": Case(submission(private_metadata=MISSING), 200),
    "form metadata not json": Case(submission(private_metadata="{ref"), 200),
    "form metadata a list": Case(submission(private_metadata="[1, 2]"), 200),
    "form metadata a number": Case(submission(private_metadata=42), 200),
    "form metadata ref an object": Case(
        submission(private_metadata=json.dumps({"ref": {"x": 1}, "channel": ["C1"]})), 200
    ),
    "form values a string": Case(submission(state={"values": "note"}), 400),
    "form value a list": Case(
        submission(state={"values": {"note": {"value": {"value": ["a"]}}}}), 200
    ),
    "form value a number": Case(
        submission(state={"values": {"note": {"value": {"value": 5}}}}), 200
    ),
    "add form metadata not json": Case(submission("policy_add_form", private_metadata="]"), 200),
    "add form values odd": Case(
        submission("policy_add_form", state={"values": {"title": {"title": {"value": 5}}}}), 200
    ),
    "subscribe form metadata a list": Case(
        submission("policy_subscribe_form", private_metadata="[]"), 200
    ),
    "subscribe form values odd": Case(
        submission(
            "policy_subscribe_form",
            state={"values": {"channel": {"channel": {"selected_conversation": 5}}}},
        ),
        200,
    ),
    "search form values odd": Case(
        submission("policy_search_form", state={"values": {"query": {"query": {"value": []}}}}),
        200,
    ),
    "unknown form": Case(submission("somebody_elses_form"), 200),
    # Slash commands with fields missing or enormous.
    "command without team_id": Case(slash(team_id=None), 200, polite=True),
    "command without channel_id": Case(slash(channel_id=None), 200, polite=True),
    "command without user_id": Case(slash(user_id=None), 200, polite=True),
    "command without text": Case(slash(text=None), 200, polite=True),
    "command text enormous": Case(slash(text="search " + "x" * 200_000), 200, polite=True),
    "command text control chars": Case(slash(text="search \x00\x07\u202e"), 200, polite=True),
    "command without response_url": Case(slash(response_url=None), 200, polite=True),
    "command not ours": Case(slash(command="/weather"), 200, polite=True),
    "command text says payload": Case(slash(text="search payload"), 200, polite=True),
    "payload field percent-encoded": Case(b"%70ayload=" + interactive(BUTTON)[8:], 400),
    "form neither command nor payload": Case(form(team_id="T1", text="storage"), 400),
    "json without type": Case(b'{"team_id": "T1", "event": {"type": "x"}}', 400, JSON),
    "json nested deeply": Case(b"[" * 100_000 + b"]" * 100_000, 400, JSON),
    "payload nested deeply": Case(form(payload="[" * 50_000 + "]" * 50_000), 400),
    "button selected_option a string": Case(
        button(actions=[{"action_id": "policy_menu", "selected_option": "x"}]), 400
    ),
    "form selected_options strings": Case(
        submission(
            "policy_add_form",
            state={"values": {"bodies": {"bodies": {"selected_options": ["MIIT"]}}}},
        ),
        400,
    ),
    "command a json list": Case(json.dumps({"command": ["/policy"]}).encode(), 400, JSON),
    # Events with parts missing or of the wrong shape.
    "event missing": Case(event(MISSING), 400, JSON),
    "event a string": Case(event("link_shared"), 400, JSON),
    "event type a number": Case(event({"type": 5}), 400, JSON),
    "unknown event type": Case(event({"type": "somebody_elses_event"}), 200, JSON),
    "links a string": Case(link_shared("https://example.org"), 200, JSON),
    "links an object": Case(link_shared({"url": "https://example.org"}), 200, JSON),
    "links strings": Case(link_shared(["https://example.org"]), 200, JSON),
    "link url a number": Case(link_shared([{"url": 5, "domain": "x"}]), 200, JSON),
    "link url an object": Case(link_shared([{"url": {"a": 1}}]), 200, JSON),
    "links missing": Case(event({"type": "link_shared", "channel": "C100"}), 200, JSON),
    "link_shared channel odd": Case(
        event({"type": "link_shared", "channel": 5, "message_ts": [1], "links": []}), 400, JSON
    ),
    "link to a brief, unfurl_id odd": Case(
        event({"type": "link_shared", "unfurl_id": 5, "source": ["x"], "links": [{"url": STORED}]}),
        200,
        JSON,
    ),
    "link to a brief, no message named": Case(
        event({"type": "link_shared", "links": [{"url": STORED}]}), 200, JSON
    ),
    "link to a brief, unknown channel": Case(
        event(
            {"type": "link_shared", "channel": "C404", "message_ts": "1.2"}
            | {"links": [{"url": STORED}] * 3}
        ),
        200,
        JSON,
    ),
    "links enormous": Case(link_shared([{"url": STORED}] * 5000), 200, JSON),
    "home opened without user": Case(event({"type": "app_home_opened", "tab": "home"}), 200, JSON),
    "challenge a number": Case(
        json.dumps({"type": "url_verification", "challenge": 5}).encode(), 400, JSON
    ),
}


def send(port: int, case: Case, response_url: str) -> tuple[int, str]:
    """POST with header values sent as raw bytes (urllib would refuse the non-ASCII ones)."""
    case = replace(case, body=case.body.replace(RESPONSE_URL.encode(), response_url.encode()))
    timestamp = now()
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(timestamp, case.body),
    }
    if case.headers is not None:
        headers = {k: v for k, v in headers.items() if k not in ("X-Slack-Signature",)}
        if "X-Slack-Request-Timestamp" in case.headers:
            headers["X-Slack-Signature"] = sign(
                case.headers["X-Slack-Request-Timestamp"], case.body
            )
        if not case.headers:
            headers = {}
        headers |= case.headers
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("POST", "/slack/events")
        if case.content_type:
            connection.putheader("Content-Type", case.content_type.encode())
        connection.putheader("Content-Length", str(len(case.body)))
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(case.body)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.fixture(scope="module")
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@dataclass
class Outcome:
    answers: dict[str, tuple[int, str]]
    good: tuple[int, str]
    log: str
    unfurled: int  # chat.unfurl calls: the odd link_shared events did reach the listener


@pytest.fixture(scope="module")
def attacked(fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """Every case sent once at one server, then a good command; the log once it has stopped."""
    folder = tmp_path_factory.mktemp("malformed")
    served = Served(
        f"sqlite:///{folder / 'malformed.sqlite3'}",
        fake_slack,
        folder / "serve.log",
        {"POLICYBOT_SCHEDULER": "0", "POLICYBOT_MAX_BODY_BYTES": "1048576"},
        workers=1,
    )
    try:
        served.wait_ready()
        reply_to = fake_slack.response_url("malformed")
        answers = {name: send(served.port, case, reply_to) for name, case in CASES.items()}
        good = send(served.port, Case(slash(text="storage"), 200), reply_to)
        # Events are acked before their listener runs: wait until the unfurls are done.
        for channel in ("C404", "C100"):
            fake_slack.wait_for_call(
                lambda call, channel=channel: (
                    call.method == "chat.unfurl"  # type: ignore[misc]
                    and call.params.get("channel") == channel
                ),
                30,
            )
    finally:
        served.stop()
    return Outcome(answers, good, served.log(), len(fake_slack.calls_to("chat.unfurl")))


def test_there_are_enough_shapes() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", list(CASES))
def test_each_shape_is_answered_as_it_should(attacked: Outcome, name: str) -> None:
    status, text = attacked.answers[name]
    case = CASES[name]
    assert status == case.status, text
    assert "Traceback" not in text and "Error" not in text
    if case.polite:
        assert text.strip(), "a signed command is answered with a sentence"


def test_no_traceback_and_at_most_one_warning_a_request(attacked: Outcome) -> None:
    log = attacked.log
    assert "Traceback" not in log, log
    assert not re.search(r" (ERROR|CRITICAL) ", log), log
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert len(warnings) <= len(CASES), "\n".join(warnings)
    tagged: dict[str, int] = {}
    for line in warnings:
        found = re.search(r"\[request (\S+)\]$", line)
        if found:
            tagged[found.group(1)] = tagged.get(found.group(1), 0) + 1
    assert all(count == 1 for count in tagged.values()), "\n".join(warnings)


def test_unfurls_of_odd_events_reach_slack(attacked: Outcome) -> None:
    assert attacked.unfurled == 2  # unknown channel, enormous links; the others name no message


def test_a_good_command_is_still_answered(attacked: Outcome) -> None:
    status, text = attacked.good
    assert status == 200 and "1 brief for storage" in text, text


def test_a_command_that_says_payload_is_answered(attacked: Outcome) -> None:
    """Bolt reads any form mentioning "payload" as an interactive payload; the edge keeps
    such a command a command."""
    status, text = attacked.answers["command text says payload"]
    assert status == 200 and "payload" in text, text
