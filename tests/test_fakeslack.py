"""Tests for tests/fakeslack.py, driven through the real slack_sdk / slack_bolt clients."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_bolt import App, BoltRequest, Respond, Say
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from tests.fakeslack import (
    CHANNEL_POST_METHODS,
    FakeSlack,
    Fault,
    fake_slack,  # noqa: F401  (pytest fixture, used via getfixturevalue)
    serve,
)

NO_WAIT = FixedValueRetryIntervalCalculator(0.0)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    yield from serve()


def client_for(fake: FakeSlack, **kwargs: Any) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url, **kwargs)


# --------------------------------------------------------------------------- basics


def test_lifecycle_and_urls() -> None:
    fake = FakeSlack()
    with pytest.raises(RuntimeError):
        _ = fake.url
    with fake:
        assert fake.url.startswith("http://127.0.0.1:") and fake.url.endswith("/api/")
        port_base = fake.url.removesuffix("/api/")
        assert fake.response_url() == f"{port_base}/response/r1"
        assert fake.response_url("abc") == f"{port_base}/response/abc"
    # stopped: the port no longer answers
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{port_base}/api/auth.test", data=b"", timeout=1)


def test_fixture_helper(request: pytest.FixtureRequest) -> None:
    fake = request.getfixturevalue("fake_slack")
    assert isinstance(fake, FakeSlack)
    assert client_for(fake).auth_test()["team_id"] == "T1"


def test_auth_test(fake: FakeSlack) -> None:
    resp = client_for(fake).auth_test()
    assert resp["ok"] is True
    assert (resp["team_id"], resp["user_id"], resp["bot_id"]) == ("T1", "UBOT", "BBOT")
    assert resp["url"].startswith("https://") and resp["team"] and resp["user"]
    (call,) = fake.calls_to("auth.test")
    assert call.token == "xoxb-test"
    assert call.path == "/api/auth.test"
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert call.status == 200 and call.response == resp.data and call.fault is None


def test_post_message_records_and_returns_increasing_ts(fake: FakeSlack) -> None:
    client = client_for(fake)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    first = client.chat_postMessage(channel="C1", text="hi", blocks=blocks)
    second = client.chat_postMessage(channel="C2", text="there")
    assert first["channel"] == "C1"
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["text"] == "hi" and first["message"]["blocks"] == blocks
    assert first["message"]["ts"] == first["ts"]

    calls = fake.calls_to("chat.postMessage")
    assert [c.params["channel"] for c in calls] == ["C1", "C2"]
    assert calls[0].params["blocks"] == blocks  # chat_postMessage sends JSON
    assert calls[0].at <= calls[1].at
    assert [m["text"] for m in fake.posted_messages()] == ["hi", "there"]
    assert [m["text"] for m in fake.posted_messages("C2")] == ["there"]

    fake.clear()
    assert fake.calls == [] and fake.posted_messages() == []


def test_form_encoded_params_keep_json_fields_as_strings(fake: FakeSlack) -> None:
    blocks = json.dumps([{"type": "divider"}])
    resp = client_for(fake).api_call(
        "chat.postMessage", params={"channel": "C1", "text": "x", "blocks": blocks}
    )
    (call,) = fake.calls_to("chat.postMessage")
    assert call.params["blocks"] == blocks
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert resp["message"]["blocks"] == [{"type": "divider"}]


def test_token_param_and_query_string(fake: FakeSlack) -> None:
    body = b"token=xoxb-param&channel=C9"
    url = fake.url + "conversations.info?include_locale=true"
    with urllib.request.urlopen(url, data=body, timeout=2) as resp:
        assert json.loads(resp.read())["channel"]["id"] == "C9"
    (call,) = fake.calls
    assert call.token == "xoxb-param"
    assert call.params == {"token": "xoxb-param", "channel": "C9", "include_locale": "true"}


def test_post_message_validation_and_unknown_method(fake: FakeSlack) -> None:
    client = client_for(fake)
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.postMessage", json={"text": "no channel"})
    assert exc.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as exc:
        client.api_call("admin.teams.list")
    assert exc.value.response.status_code == 200
    assert exc.value.response["error"] == "unknown_method"
    assert fake.calls_to("admin.teams.list")[0].response == {
        "ok": False,
        "error": "unknown_method",
    }
    assert fake.posted_messages() == []


def test_other_chat_and_view_methods(fake: FakeSlack) -> None:
    client = client_for(fake)
    posted = client.chat_postMessage(channel="C1", text="v1")
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="v2")
    assert (updated["ts"], updated["text"], updated["message"]["text"]) == (
        posted["ts"],
        "v2",
        "v2",
    )
    eph = client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    assert eph["message_ts"] > posted["ts"]
    link = client.chat_getPermalink(channel="C1", message_ts=posted["ts"])
    assert link["permalink"].endswith("/archives/C1/p1700000000000100")

    view = {"type": "home", "blocks": [{"type": "divider"}]}
    home = client.views_publish(user_id="U1", view=view)
    assert home["view"]["id"].startswith("V") and home["view"]["type"] == "home"
    form = {"type": "modal", "title": {"type": "plain_text", "text": "Form"}, **view}
    form["type"] = "modal"
    modal = client.views_open(trigger_id="123.456", view=form)
    assert modal["view"]["id"] != home["view"]["id"]
    # Block Kit that slack_sdk.models would not accept is refused, as Slack refuses it
    with pytest.raises(SlackApiError) as refused:
        client.views_open(trigger_id="123.456", view={"type": "modal", "blocks": []})
    assert refused.value.response["error"] == "invalid_blocks"
    assert fake.invalid_blocks and "between 1 and 100 blocks" in fake.invalid_blocks[0]
    fake.invalid_blocks.clear()
    # only the chat.postMessage counts as a posted message
    assert len(fake.posted_messages()) == 1


def test_users_info(fake: FakeSlack) -> None:
    fake.set_user("U1", tz="America/New_York", is_admin=True, name="ada")
    fake.set_user("U2")
    client = client_for(fake)
    user = client.users_info(user="U1")["user"]
    assert user["id"] == "U1" and user["name"] == "ada" and user["team_id"] == "T1"
    assert user["tz"] == "America/New_York"
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert user["is_admin"] is True and user["is_owner"] is False
    assert client.users_info(user="U2")["user"]["tz_offset"] == 0
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U404")
    assert exc.value.response["error"] == "user_not_found"
    with pytest.raises(ValueError):
        fake.set_user("U3", tz="Not/AZone")


def test_conversations(fake: FakeSlack) -> None:
    fake.add_channel_member("C1", "U1")
    fake.add_channel_member("C1", "U2")
    fake.add_channel_member("C1", "U1")
    client = client_for(fake)
    assert client.conversations_members(channel="C1")["members"] == ["U1", "U2"]
    assert client.conversations_members(channel="C2")["members"] == []
    info = client.conversations_info(channel="C1")["channel"]
    assert info["id"] == "C1" and info["is_member"] is True and info["name"]


# --------------------------------------------------------------------------- faults


def test_rate_limited_without_retry_handler_raises_429(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", Fault("rate_limited", retry_after=7))
    client = client_for(fake)  # default handlers: connection errors only
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="hi")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    assert exc.value.response["error"] == "ratelimited"
    (call,) = fake.calls_to("chat.postMessage")
    assert (call.status, call.fault) == (429, "rate_limited")
    assert fake.posted_messages() == []
    # the queue is consumed: the next call succeeds
    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True


def test_rate_limited_retried_by_handler(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", Fault("rate_limited", retry_after=0))
    client = client_for(fake, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    started = time.monotonic()
    resp = client.chat_postMessage(channel="C1", text="hi")
    elapsed = time.monotonic() - started
    assert resp["ok"] is True
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]
    # the handler sleeps int(Retry-After) + random.random(), ignoring interval_calculator
    assert elapsed < 1.5
    assert len(fake.posted_messages()) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_retried_by_handler(fake: FakeSlack, status: int) -> None:
    fake.fail_next("chat.postMessage", Fault("server_error", status=status))
    handler = ServerErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT)
    resp = client_for(fake, retry_handlers=[handler]).chat_postMessage(channel="C1", text="x")
    assert resp["ok"] is True
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [status, 200]


def test_server_error_502_is_not_retried(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", Fault("server_error", status=502))
    handler = ServerErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT)
    with pytest.raises(SlackApiError) as exc:
        client_for(fake, retry_handlers=[handler]).chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 502
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_server_error_without_handler(fake: FakeSlack) -> None:
    fake.fail_next("users.info", Fault("server_error"))
    with pytest.raises(SlackApiError) as exc:
        client_for(fake).users_info(user="U1")
    assert exc.value.response.status_code == 500
    assert exc.value.response["error"] == "fatal_error"


def test_timeout_raises_and_is_not_retried_by_default(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", Fault("timeout", delay=2.0))
    client = client_for(fake, timeout=0.2)  # default ConnectionErrorRetryHandler
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="C1", text="maybe")
    assert time.monotonic() - started < 1.0
    # a read timeout is a bare TimeoutError, not URLError: no retry happened ...
    (call,) = fake.calls_to("chat.postMessage")
    assert (call.status, call.fault) == (200, "timeout")
    # ... yet Slack (the fake) did post the message
    assert [m["text"] for m in fake.posted_messages()] == ["maybe"]


def test_timeout_retried_posts_twice(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", Fault("timeout", delay=2.0))
    handler = ConnectionErrorRetryHandler(
        max_retry_count=1, interval_calculator=NO_WAIT, error_types=[TimeoutError]
    )
    client = client_for(fake, timeout=0.2, retry_handlers=[handler])
    assert client.chat_postMessage(channel="C1", text="dup")["ok"] is True
    assert [m["text"] for m in fake.posted_messages("C1")] == ["dup", "dup"]


def test_stop_does_not_wait_for_sleeping_fault() -> None:
    fake = FakeSlack().start()
    fake.fail_next("auth.test", Fault("timeout", delay=30.0))
    with pytest.raises(TimeoutError):
        client_for(fake, timeout=0.2, retry_handlers=[]).auth_test()
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 1.0


def test_error_fault_and_wildcard_queue_order(fake: FakeSlack) -> None:
    fake.fail_next("*", Fault("error", error="invalid_auth"))
    fake.fail_next("chat.postMessage", Fault("error", error="is_archived"))
    client = client_for(fake)
    errors = []
    for _ in range(3):
        try:
            client.chat_postMessage(channel="C1", text="x")
            errors.append("ok")
        except SlackApiError as e:
            assert e.response.status_code == 200
            errors.append(e.response["error"])
    # the method's own queue is used before "*"
    assert errors == ["is_archived", "invalid_auth", "ok"]
    with pytest.raises(ValueError):
        Fault("error")


def test_fail_channel_and_heal(fake: FakeSlack) -> None:
    assert "chat.postMessage" in CHANNEL_POST_METHODS
    fake.fail_channel("C404", "channel_not_found")
    client = client_for(fake)
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel="C404", text="x")
        assert exc.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="fine")["ok"] is True
    fake.heal_channel("C404")
    assert client.chat_postMessage(channel="C404", text="back")["ok"] is True
    assert [m["text"] for m in fake.posted_messages()] == ["fine", "back"]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [200] * 4


def outcomes(seed: int, n: int = 40) -> list[str]:
    with FakeSlack(seed=seed) as fake:
        fake.fail_randomly(
            0.3,
            [Fault("error", error="not_in_channel"), Fault("server_error", status=503)],
        )
        client = client_for(fake, retry_handlers=[])
        client.auth_test()  # not in `methods`: must not consume random draws
        result = []
        for i in range(n):
            try:
                client.chat_postMessage(channel="C1", text=str(i))
                result.append("ok")
            except SlackApiError as e:
                result.append(e.response["error"])
        assert len(fake.posted_messages()) == result.count("ok")
        return result


def test_fail_randomly_is_deterministic_per_seed() -> None:
    first = outcomes(seed=1)
    assert first == outcomes(seed=1)
    assert first != outcomes(seed=2)
    assert {"ok", "not_in_channel", "service_unavailable"} == set(first)
    assert 4 <= first.count("ok") <= 36


def test_concurrent_posts_get_unique_ts(fake: FakeSlack) -> None:
    client = client_for(fake)

    def post(i: int) -> str:
        return str(client.chat_postMessage(channel="C1", text=str(i))["ts"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        stamps = list(pool.map(post, range(80)))
    assert len(set(stamps)) == 80
    assert sorted(m["text"] for m in fake.posted_messages("C1")) == sorted(map(str, range(80)))


def test_latency_delays_every_answer() -> None:
    with FakeSlack(latency=0.05) as fake:
        started = time.monotonic()
        client_for(fake).auth_test()
        assert time.monotonic() - started >= 0.05


# --------------------------------------------------------------------------- files, oauth


def test_files_upload_v2_end_to_end(fake: FakeSlack) -> None:
    resp = client_for(fake).files_upload_v2(
        channel="C1", content="hello, world", filename="brief.txt", title="Brief"
    )
    assert resp["ok"] is True
    assert resp["file"]["id"].startswith("F") and resp["file"]["title"] == "Brief"
    assert [c.method for c in fake.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    get_url, upload, complete = fake.calls
    assert get_url.params["filename"] == "brief.txt" and get_url.params["length"] == "12"
    assert upload.params["_content"] == b"hello, world"
    assert upload.path == f"/upload/{resp['file']['id']}"
    assert complete.params["channel_id"] == "C1"
    assert json.loads(complete.params["files"])[0]["id"] == resp["file"]["id"]


def test_oauth_v2_access(fake: FakeSlack) -> None:
    client = WebClient(base_url=fake.url)
    resp = client.oauth_v2_access(client_id="cid", client_secret="secret", code="good-code")
    assert resp["access_token"] == "xoxb-team2-token"
    assert resp["team"] == {"id": "T2", "name": resp["team"]["name"]}
    assert resp["enterprise"] is None and resp["token_type"] == "bot"
    assert resp["bot_user_id"] and resp["app_id"] and resp["authed_user"]["id"]
    assert fake.calls_to("oauth.v2.access")[0].headers["authorization"].startswith("Basic ")
    # the installed token identifies as the new team
    assert client.auth_test(token=resp["access_token"])["team_id"] == "T2"
    with pytest.raises(SlackApiError) as exc:
        client.oauth_v2_access(client_id="cid", client_secret="secret", code="bad")
    assert exc.value.response["error"] == "invalid_code"


# --------------------------------------------------------------------------- response_url


def test_response_url_via_webhook_client(fake: FakeSlack) -> None:
    webhook = WebhookClient(fake.response_url("abc"))
    resp = webhook.send(text="done", response_type="ephemeral")
    assert resp.status_code == 200
    (call,) = fake.calls_to("response_url")
    assert call.path == "/response/abc"
    assert call.params == {"text": "done", "response_type": "ephemeral"}

    # WebhookClient does not raise on failures: callers must check the status
    fake.fail_next("response_url", Fault("server_error", status=503))
    assert webhook.send(text="again").status_code == 503


def test_bolt_respond_and_say(fake: FakeSlack) -> None:
    app = App(
        client=client_for(fake),
        signing_secret="secret",
        request_verification_enabled=False,
        process_before_response=True,
    )

    @app.command("/policy")
    def handle(ack: Any, respond: Respond, say: Say) -> None:
        ack()
        respond("responded")
        say("said")

    body = (
        "command=%2Fpolicy&text=x&user_id=U1&channel_id=C1&team_id=T1"
        f"&trigger_id=1.2&response_url={urllib.parse.quote(fake.response_url('cmd1'))}"
    )
    resp = app.dispatch(
        BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})
    )
    assert resp.status == 200
    (responded,) = fake.calls_to("response_url")
    assert responded.params["text"] == "responded" and responded.path == "/response/cmd1"
    assert [m["text"] for m in fake.posted_messages("C1")] == ["said"]
    assert fake.calls_to("auth.test")  # Bolt verified the token at startup
