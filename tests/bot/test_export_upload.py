"""End to end through the real HTTP endpoint: `/policy deadlines ics` acks at once and uploads
the calendar to the channel with files_upload_v2; opening the App Home publishes a view."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from icalendar import Calendar
from slack_sdk.models.views import View

from policybot.bot.app import WORKING, build_app
from policybot.bot.server.routes import make_wsgi_app
from policybot.bot.services import Services
from policybot.bot.uploads import UPLOAD_FAILURES
from tests.bot.conftest import GatedRunner, LiveServer
from tests.bot.test_http import post, slash_form, wait_for
from tests.fakeslack import FakeSlack, Fault


def uploaded(fake: FakeSlack) -> bool:
    return any(c.response.get("ok") for c in fake.calls_to("files.completeUploadExternal"))


def test_deadlines_ics_is_uploaded_to_the_channel(live: LiveServer, fake: FakeSlack) -> None:
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "deadlines ics")))
    assert status == 200
    ack = json.loads(body)
    # Policy targets: the demo's two company commitments (Airbus, Volkswagen) are left out.
    assert ack["text"] == "Calendar of 7 deadlines (policybot-deadlines.ics)"
    assert ack["response_type"] == "ephemeral"

    assert wait_for(lambda: uploaded(fake))
    (get_url,) = fake.calls_to("files.getUploadURLExternal")
    assert get_url.params["filename"] == "policybot-deadlines.ics"
    (upload,) = fake.calls_to("upload")
    content: bytes = upload.params["_content"]
    assert int(get_url.params["length"]) == len(content)
    (complete,) = fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C100"
    assert complete.params["initial_comment"] == ack["text"]
    files = json.loads(complete.params["files"])
    assert files[0]["id"] == get_url.response["file_id"]
    assert files[0]["title"] == "policybot deadlines"

    calendar = Calendar.from_ical(content)
    events = calendar.walk("VEVENT")
    assert len(events) == 7
    assert len({str(e["UID"]) for e in events}) == 7
    assert min(e.decoded("DTSTART") for e in events).isoformat() == "2027-12-31"
    assert fake.calls_to("response_url") == []  # nothing went wrong, nothing more to say
    assert fake.errors == []


def test_upload_failure_is_told_to_the_user(live: LiveServer, fake: FakeSlack) -> None:
    fake.fail_channel("C100", "not_in_channel")
    status, body = post(
        f"{live.url}/slack/events", urlencode(slash_form(fake, "deadlines ics within 24m"))
    )
    assert status == 200
    assert json.loads(body)["text"].startswith("Calendar of 5 deadlines in the next 24 months")
    assert wait_for(lambda: fake.calls_to("response_url"))
    said = fake.calls_to("response_url")[0].params
    assert said["text"] == UPLOAD_FAILURES["not_in_channel"]
    assert said["response_type"] == "ephemeral"
    assert said["replace_original"] is False


def test_a_slow_upload_never_holds_up_the_ack(live: LiveServer, fake: FakeSlack) -> None:
    fake.fail_next("files.getUploadURLExternal", Fault("timeout", delay=4))
    started = time.monotonic()
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "deadlines csv")))
    elapsed = time.monotonic() - started
    assert status == 200
    assert json.loads(body)["text"].startswith("Spreadsheet of 7 deadlines")
    assert elapsed < 2.5  # Slack gives up at 3 s; the upload's answer takes 4
    assert not uploaded(fake)
    assert wait_for(lambda: uploaded(fake), timeout=10)
    (upload,) = fake.calls_to("upload")
    assert upload.params["_content"].startswith(b"goal_id,brief_id,deadline,")


def test_a_slow_export_is_answered_then_uploaded(services: Services, fake: FakeSlack) -> None:
    slow = GatedRunner(services.sessions)
    services.runner = slow
    app = build_app(services, ack_budget=0.2)
    with LiveServer(make_wsgi_app(app, services)) as server:
        status, body = post(
            f"{server.url}/slack/events", urlencode(slash_form(fake, "deadlines ics storage"))
        )
        assert status == 200
        assert json.loads(body)["text"] == WORKING
        slow.release.set()
        assert wait_for(lambda: uploaded(fake))
    said = fake.calls_to("response_url")[0].params
    assert said["text"] == "Calendar of 3 deadlines for storage (policybot-deadlines.ics)"
    assert said["replace_original"] is True
    (upload,) = fake.calls_to("upload")
    assert len(Calendar.from_ical(upload.params["_content"]).walk("VEVENT")) == 3
    (complete,) = fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C100"


def test_a_button_that_exports_uploads_too(live: LiveServer, fake: FakeSlack) -> None:
    """A "did you mean" button of `deadlines ics storaeg` runs `deadlines ics storage`."""
    status, body = post(
        f"{live.url}/slack/events", urlencode(slash_form(fake, "deadlines ics storaeg"))
    )
    assert status == 200
    buttons = [
        element
        for block in json.loads(body)["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert [b["value"] for b in buttons][:1] == ["deadlines ics storage"]
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
                "action_id": buttons[0]["action_id"],
                "block_id": "b1",
                "type": "button",
                "value": buttons[0]["value"],
                "text": {"type": "plain_text", "text": buttons[0]["text"]["text"]},
                "action_ts": "1700000001.000200",
            }
        ],
    }
    status, _ = post(f"{live.url}/slack/events", urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    assert wait_for(lambda: uploaded(fake))
    (complete,) = fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C100"
    assert complete.params["initial_comment"].startswith("Calendar of 3 deadlines for storage")


def test_no_matching_deadlines_uploads_nothing(live: LiveServer, fake: FakeSlack) -> None:
    status, body = post(
        f"{live.url}/slack/events", urlencode(slash_form(fake, "deadlines ics nosuchword"))
    )
    assert status == 200
    assert json.loads(body)["text"] == "No deadlines ahead for nosuchword to export."
    # The command ran to its end before the ack, so any upload would have been submitted.
    time.sleep(0.3)
    assert fake.calls_to("files.getUploadURLExternal") == []


def home_event(tab: str = "home", user: str = "U1") -> str:
    return json.dumps(
        {
            "token": "deprecated",
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D1",
                "tab": tab,
                "event_ts": "1700000000.000100",
            },
            "event_id": "Ev1",
            "event_time": 1700000000,
        }
    )


def test_app_home_opened_publishes_the_home_view(live: LiveServer, fake: FakeSlack) -> None:
    status, _ = post(f"{live.url}/slack/events", home_event(), content_type="application/json")
    assert status == 200
    assert wait_for(lambda: fake.calls_to("views.publish"))
    (call,) = fake.calls_to("views.publish")
    assert call.response["ok"] is True
    assert call.params["user_id"] == "U1"
    view: Any = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    checked = View(type="home", blocks=view["blocks"]).to_dict()
    assert 0 < len(checked["blocks"]) <= 100
    shown = json.dumps(view)
    assert "Deadlines in the next 12 months" in shown
    # Airbus's line (the one goal due within 12 months) is a company's plan, not a target.
    assert "Airbus announced it will open a second A320 assembly line" not in shown
    assert "Latest briefs" in shown


def test_messages_tab_publishes_nothing(live: LiveServer, fake: FakeSlack) -> None:
    status, _ = post(
        f"{live.url}/slack/events", home_event(tab="messages"), content_type="application/json"
    )
    assert status == 200
    status, _ = post(
        f"{live.url}/slack/events", home_event(user="U2"), content_type="application/json"
    )
    assert wait_for(lambda: fake.calls_to("views.publish"))
    time.sleep(0.3)  # room for a wrong publish for the Messages tab to arrive
    assert [c.params["user_id"] for c in fake.calls_to("views.publish")] == ["U2"]
