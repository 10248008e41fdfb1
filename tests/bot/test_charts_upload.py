"""End to end through the real HTTP endpoint: `/policy deadlines chart` and `scorecard chart`
ack at once and upload a PNG to the channel with files_upload_v2, with alt text naming the
counts (recorded by the fake Slack)."""

from __future__ import annotations

import io
import json
import time
from typing import Any
from urllib.parse import urlencode

from PIL import Image

from policybot.bot.app import WORKING
from policybot.handlers.charts import SCORECARD_FILE, TIMELINE_FILE
from tests.bot.conftest import LiveServer
from tests.bot.test_http import post, slash_form, wait_for
from tests.fakeslack import FakeSlack


def answer_text(fake: FakeSlack, ack: dict[str, Any]) -> str:
    """The command's answer: in the ack, or (drawing took longer than the ack's budget)
    posted to the response_url after "Working on it"."""
    if ack["text"] != WORKING:
        return str(ack["text"])
    assert wait_for(lambda: fake.calls_to("response_url"), timeout=10)
    return str(fake.calls_to("response_url")[0].params["text"])


def uploaded(fake: FakeSlack) -> bool:
    return any(c.response.get("ok") for c in fake.calls_to("files.completeUploadExternal"))


def test_deadlines_chart_is_uploaded_with_alt_text(live: LiveServer, fake: FakeSlack) -> None:
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "deadlines chart")))
    assert status == 200
    said = answer_text(fake, json.loads(body))
    assert said.startswith("Timeline of 7 upcoming targets, due 31 Dec 2027 to 31 Dec 2035")
    assert wait_for(lambda: uploaded(fake), timeout=10)
    (get_url,) = fake.calls_to("files.getUploadURLExternal")
    assert get_url.params["filename"] == TIMELINE_FILE
    alt = get_url.params["alt_txt"]
    assert alt.startswith("Timeline of 7 upcoming targets")
    assert "MIIT 7, MOF 2, NDB 2" in alt
    (upload,) = fake.calls_to("upload")
    with Image.open(io.BytesIO(upload.params["_content"])) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert 600 <= width <= 2000 and 250 <= height <= 1500
    (complete,) = fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C100"
    assert complete.params["initial_comment"] == said
    assert complete.response["files"][0]["alt_txt"] == alt
    assert fake.errors == []


def test_scorecard_chart_is_uploaded(live: LiveServer, fake: FakeSlack) -> None:
    # g1 (MIIT, MOF and NDB, due 2027) answered early: the scorecard counts answered targets.
    status, _ = post(
        f"{live.url}/slack/events", urlencode(slash_form(fake, "status g1 met confirm"))
    )
    assert status == 200
    fake.clear()
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "scorecard chart")))
    assert status == 200
    said = answer_text(fake, json.loads(body))
    assert said == f"Scorecard chart: 1 met ({SCORECARD_FILE})"
    assert wait_for(lambda: uploaded(fake), timeout=10)
    (get_url,) = fake.calls_to("files.getUploadURLExternal")
    assert get_url.params["filename"] == SCORECARD_FILE
    alt = get_url.params["alt_txt"]
    assert alt.startswith("Bar chart of 1 scored target by issuing body")
    for body_name in ("MIIT", "MOF", "NDB"):
        assert f"{body_name}: 1 met" in alt


def test_an_empty_chart_uploads_nothing(live: LiveServer, fake: FakeSlack) -> None:
    status, body = post(
        f"{live.url}/slack/events", urlencode(slash_form(fake, "deadlines chart nosuchword"))
    )
    assert status == 200
    assert json.loads(body)["text"] == "No deadlines ahead for nosuchword to chart."
    time.sleep(0.3)  # the command ran before the ack: any upload would have been submitted
    assert fake.calls_to("files.getUploadURLExternal") == []
