"""Watched sources through Slack: signed slash commands to the real endpoint, App Home's
section and its Pause/Resume/Remove buttons (views validated by slack_sdk), and a
newsletter emailed to an intake channel, previewed and ingested like an upload."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.views import View
from sqlalchemy import func, select

from policybot.bot.services import Services
from policybot.bot.settings import Settings
from policybot.data.models import Brief, WatchedSource
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, LiveServer
from tests.bot.test_http import post, slash_form, wait_for
from tests.bot.test_intake import INTAKE_CHANNEL, answer, click_body, file_event, previews
from tests.fakeslack import FakeSlack
from tests.scheduler.conftest import tracker_issue
from tests.watch.web import Resource, Site, rss, serving

ADMIN, MEMBER = "U100", "U200"


@pytest.fixture
def settings(tmp_path: Path, fake: FakeSlack) -> Settings:
    return Settings.from_env(
        {"POLICYBOT_INTAKE_CHANNELS": INTAKE_CHANNEL, "POLICYBOT_FETCH_ALLOW_PRIVATE": "1"},
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
    )


@pytest.fixture(autouse=True)
def people(fake: FakeSlack) -> None:
    fake.set_user(ADMIN, is_admin=True, name="analyst")
    fake.set_user(MEMBER, is_admin=False, name="intern")


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as site:
        yield site


def typed(live: LiveServer, fake: FakeSlack, text: str, user: str = ADMIN) -> str:
    earlier = len(fake.calls_to("response_url"))
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, text, user_id=user)))
    assert status == 200, body
    reply = json.loads(body)
    if "blocks" in reply or reply.get("text") != "Working on it\u2026":
        return json.dumps(reply, ensure_ascii=False)
    assert wait_for(lambda: len(fake.calls_to("response_url")) > earlier, 30)
    return json.dumps(fake.calls_to("response_url")[earlier].params, ensure_ascii=False)


def home_opened(live: LiveServer, fake: FakeSlack, user: str = ADMIN) -> dict[str, Any]:
    earlier = len(fake.calls_to("views.publish"))
    body = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A100",
        "event": {"type": "app_home_opened", "user": user, "tab": "home"},
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
    }
    status, _ = post(f"{live.url}/slack/events", json.dumps(body), content_type="application/json")
    assert status == 200
    return latest_home(fake, earlier)


def latest_home(fake: FakeSlack, earlier: int) -> dict[str, Any]:
    assert wait_for(lambda: len(fake.calls_to("views.publish")) > earlier, 30)
    view = fake.calls_to("views.publish")[-1].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    checked: dict[str, Any] = View(type="home", blocks=view["blocks"]).to_dict()
    assert len(checked["blocks"]) <= 100
    return checked


def press(live: LiveServer, home: dict[str, Any], label: str, ref: str, user: str) -> None:
    button = next(
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label and e.get("value") == ref
    )
    body = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "policy"},
        "user": {"id": user, "name": "someone", "team_id": "T1"},
        "api_app_id": "A100",
        "token": "x",
        "container": {"type": "view", "view_id": "V1"},
        "trigger_id": "1.2.3",
        "view": {"id": "V1", "type": "home"},
        "actions": [{**button, "block_id": "b", "action_ts": "1700000001.000200"}],
    }
    status, _ = post(f"{live.url}/slack/events", urlencode({"payload": json.dumps(body)}))
    assert status == 200


def sources_of(services: Services) -> list[WatchedSource]:
    with services.sessions() as session:
        found = list(session.scalars(select(WatchedSource).order_by(WatchedSource.id)))
        session.expunge_all()
        return found


def test_slash_commands_and_app_home_manage_sources(
    live: LiveServer, services: Services, fake: FakeSlack, site: Site
) -> None:
    site.routes["/feed.xml"] = Resource(rss([]), content_type="application/rss+xml")
    url = site.url("/feed.xml")
    refused = typed(live, fake, f"source add {url} every 6h Ministry feed", MEMBER)
    assert "Only workspace admins" in refused and sources_of(services) == []
    refused = typed(live, fake, "source add http://169.254.169.254/latest/meta-data/")
    assert "link-local address" in refused and sources_of(services) == []

    added = typed(live, fake, f"source add <{url}> every 6h Ministry feed")
    assert "Watching Ministry feed" in added and "every 6h" in added
    (source,) = sources_of(services)
    assert (source.url, source.label, source.every_minutes) == (url, "Ministry feed", 360)
    listed = typed(live, fake, "sources", MEMBER)
    assert f"{source.ref} Ministry feed" in listed and "not read yet" in listed

    home = home_opened(live, fake)
    shown = json.dumps(home, ensure_ascii=False)
    assert "Watched sources" in shown and "Ministry feed" in shown
    assert "not read yet" in shown

    # A member pressing Pause is told why not (a DM) and nothing changes.
    press(live, home, "Pause", source.ref, MEMBER)
    assert wait_for(lambda: fake.posted_messages(MEMBER), 30)
    assert "Only workspace admins" in fake.posted_messages(MEMBER)[-1]["text"]
    assert sources_of(services)[0].paused_at is None

    earlier = len(fake.calls_to("views.publish"))
    press(live, home, "Pause", source.ref, ADMIN)
    home = latest_home(fake, earlier)
    assert sources_of(services)[0].paused_at is not None
    assert "(paused)" in json.dumps(home, ensure_ascii=False)

    earlier = len(fake.calls_to("views.publish"))
    press(live, home, "Resume", source.ref, ADMIN)
    home = latest_home(fake, earlier)
    assert sources_of(services)[0].paused_at is None

    earlier = len(fake.calls_to("views.publish"))
    press(live, home, "Remove", source.ref, ADMIN)
    home = latest_home(fake, earlier)
    assert sources_of(services) == []
    assert "Watched sources" not in json.dumps(home)


def test_an_emailed_newsletter_is_previewed_and_ingested_like_an_upload(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    newsletter = tracker_issue("Emailed Alpha Plan", "Emailed Beta Plan").decode()
    fake.add_file(
        "FEMAIL1",
        "email",
        b"<html>rendered email</html>",
        mimetype="text/html",
        filetype="email",
        user="USLACKBOT",
        channel=INTAKE_CHANNEL,
        extra={
            "mode": "email",
            "subject": "China Industrial Policy Tracker / December",
            "plain_text": newsletter,
            "preview_plain_text": newsletter[:200],
            "from": [{"address": "tracker@example.org", "name": "Tracker"}],
        },
    )
    with services.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Brief)) or 0
    file_event(live, "FEMAIL1", INTAKE_CHANNEL, "EvMail1", user="USLACKBOT")
    assert wait_for(lambda: previews(fake, INTAKE_CHANNEL), 30), [c.method for c in fake.calls]
    preview = previews(fake, INTAKE_CHANNEL)[0]
    assert preview["text"].startswith(
        "China Industrial Policy Tracker December.txt: would add 2 (2 new)"
    )
    assert preview["thread_ts"] == "1700000000.000500"  # in the email's thread
    assert fake.calls_to("file_download") == []  # the text came with files.info
    done = answer(live, fake, click_body(fake, preview, "Ingest", ADMIN, "mail"), "mail")
    assert "Ingested China Industrial Policy Tracker December.txt" in done["text"]
    with services.sessions() as session:
        assert (session.scalar(select(func.count()).select_from(Brief)) or 0) == before + 2


def test_an_email_without_text_is_refused_in_its_thread(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_file(
        "FEMAIL2",
        "email",
        b"",
        mimetype="text/html",
        filetype="email",
        user="USLACKBOT",
        channel=INTAKE_CHANNEL,
        extra={"mode": "email", "subject": "Only a picture", "plain_text": ""},
    )
    file_event(live, "FEMAIL2", INTAKE_CHANNEL, "EvMail2", user="USLACKBOT")
    assert wait_for(lambda: fake.posted_messages(INTAKE_CHANNEL), 30)
    said = fake.posted_messages(INTAKE_CHANNEL)[-1]
    assert "has no text I can read" in said["text"] and said["thread_ts"]
    assert fake.calls_to("chat.postEphemeral") == []


def test_the_home_tab_stays_within_100_blocks_with_many_sources() -> None:
    from policybot.bot.sources import source_blocks, with_sources
    from policybot.handlers.sources import SourceView

    views = [
        SourceView(
            ref=f"w{i}",
            url=f"https://www.miit.gov.cn/list{i}.html",
            label=f"List {i}",
            kind="document list",
            schedule="every 6h",
            paused=i % 2 == 0,
            last_success=None,
            last_error="HTTP 500 Internal Server Error" if i % 3 == 0 else None,
            last_error_at=None,
            failures=i % 3,
            items_found=i,
            items_read=i,
            items_waiting=0,
            items_failed=0,
            next_poll=None,
        )
        for i in range(80)
    ]
    for used in (0, 30, 90, 97, 100):
        home = {"type": "home", "blocks": [{"type": "divider"}] * used}
        grown = with_sources(home, views)
        checked = View(type="home", blocks=grown["blocks"]).to_dict()
        assert len(checked["blocks"]) <= 100
        added = len(grown["blocks"]) - used
        assert added == 0 or "more: `/policy sources` lists them all" in json.dumps(grown)
    assert source_blocks([], 100) == []
