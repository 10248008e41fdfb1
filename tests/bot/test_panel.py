"""Modals, the search shortcut, App Home buttons, brief menus, link unfurls and the forget
confirmation, end to end: signed requests to the real HTTP endpoint, Web API calls to the
fake Slack."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_sdk.models.views import View
from sqlalchemy import func, select

from policybot.bot.blocks import ACTION_MENU
from policybot.bot.home import ACTION_NEW, ACTION_SETUP
from policybot.bot.modals import ACTION_QUERY, CALLBACK_SEARCH, CALLBACK_SUBSCRIBE, SHORTCUT_SEARCH
from policybot.bot.services import Services
from policybot.data.models import Brief, ReminderRule, Subscription
from tests.bot.conftest import LiveServer
from tests.bot.test_blocks import assert_valid_message, buttons, texts
from tests.bot.test_http import post, slash_form, wait_for
from tests.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
USER = {"id": "U100", "name": "analyst", "team_id": "T1"}


def interactive(live: LiveServer, body: dict[str, Any]) -> tuple[int, str]:
    base = {"team": {"id": "T1", "domain": "policy"}, "user": USER, "api_app_id": "A100"}
    form = urlencode({"payload": json.dumps({**base, "token": "x", **body})})
    return post(f"{live.url}/slack/events", form)


def event(live: LiveServer, payload: dict[str, Any]) -> int:
    body = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A100",
        "event": payload,
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
    }
    status, _ = post(f"{live.url}/slack/events", json.dumps(body), content_type="application/json")
    return status


def opened_view(fake: FakeSlack, method: str = "views.open") -> dict[str, Any]:
    assert wait_for(lambda: fake.calls_to(method)), [c.method for c in fake.calls]
    view = fake.calls_to(method)[-1].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert View(**view).to_dict() == view  # slack_sdk accepts it as it is
    assert len(view["blocks"]) <= 100
    return dict(view)


def state(**values: dict[str, Any]) -> dict[str, Any]:
    return {"values": {block: {"value": value} for block, value in values.items()}}


def submission(view: dict[str, Any], **values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "trigger_id": "2.3.4",
        "view": {**view, "id": "V1", "hash": "h1", "team_id": "T1", "state": state(**values)},
    }


def subscribe_values(query: str, zone: str = "Europe/Berlin") -> dict[str, dict[str, Any]]:
    return {
        "channel": {"type": "conversations_select", "selected_conversation": "C100"},
        "query": {"type": "plain_text_input", "value": query},
        "cadence": {"type": "static_select", "selected_option": {"value": "weekly"}},
        "weekday": {"type": "static_select", "selected_option": {"value": "tuesday"}},
        "time": {"type": "timepicker", "selected_time": "08:30"},
        "tz": {"type": "plain_text_input", "value": zone},
    }


def count_rows(services: Services, model: type[Subscription] | type[ReminderRule]) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_subscribe_alone_opens_the_form_and_bad_input_comes_back_under_its_field(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_channel_member("C100", "U100")
    status, _ = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "subscribe")))
    assert status == 200
    view = opened_view(fake)
    assert view["callback_id"] == CALLBACK_SUBSCRIBE
    assert {b.get("block_id") for b in view["blocks"]} >= {"channel", "query", "cadence", "tz"}

    for values, field in (
        (subscribe_values("storage", zone="Mars/Olympus"), "tz"),
        (subscribe_values("storage since:notadate"), "query"),
    ):
        status, body = interactive(live, submission(view, **values))
        assert status == 200
        answer = json.loads(body)
        assert answer["response_action"] == "errors" and field in answer["errors"], answer
        assert "Traceback" not in body
    assert count_rows(services, Subscription) == 0

    status, body = interactive(live, submission(view, **subscribe_values("storage")))
    assert status == 200 and not body.strip()  # the modal closes
    with services.sessions() as session:
        sub = session.scalars(select(Subscription)).one()
        assert (sub.query_text, sub.channel_id, sub.weekday, sub.at_minute, sub.timezone) == (
            "storage",
            "C100",
            1,
            8 * 60 + 30,
            "Europe/Berlin",
        )
    assert wait_for(lambda: fake.calls_to("chat.postEphemeral"))
    assert "Subscribed" in fake.calls_to("chat.postEphemeral")[0].params["text"]


def test_a_non_member_gets_the_refusal_under_the_channel_field(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_channel_member("C100", "USOMEONE")
    post(f"{live.url}/slack/events", urlencode(slash_form(fake, "subscribe")))
    view = opened_view(fake)
    _, body = interactive(live, submission(view, **subscribe_values("storage")))
    assert json.loads(body)["errors"].keys() == {"channel"}
    assert count_rows(services, Subscription) == 0


def test_typing_a_query_updates_the_live_count(live: LiveServer, fake: FakeSlack) -> None:
    post(f"{live.url}/slack/events", urlencode(slash_form(fake, "remind")))
    view = opened_view(fake)
    typed = {
        "type": "block_actions",
        "trigger_id": "3.4.5",
        "container": {"type": "view", "view_id": "V1"},
        "view": {
            **view,
            "id": "V1",
            "hash": "h1",
            "state": state(query={"type": "plain_text_input", "value": "储能"}),
        },
        "actions": [{"action_id": ACTION_QUERY, "block_id": "query", "value": "储能"}],
    }
    status, _ = interactive(live, typed)
    assert status == 200
    updated = opened_view(fake, "views.update")
    count = next(b for b in updated["blocks"] if b.get("block_id") == "count")
    assert count["elements"][0]["text"] == "1 stored brief matches this today."


def test_remind_form_rejects_bad_leads_and_saves_good_ones(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_channel_member("C100", "U100")
    post(f"{live.url}/slack/events", urlencode(slash_form(fake, "remind")))
    view = opened_view(fake)
    values = {
        "channel": {"type": "conversations_select", "selected_conversation": "C100"},
        "query": {"type": "plain_text_input", "value": "storage"},
        "leads": {"type": "plain_text_input", "value": "ninety"},
        "time": {"type": "timepicker", "selected_time": "09:00"},
        "tz": {"type": "plain_text_input", "value": "UTC"},
    }
    _, body = interactive(live, submission(view, **values))
    assert json.loads(body)["errors"].keys() == {"leads"}
    values["leads"] = {"type": "plain_text_input", "value": "90, 30"}
    status, body = interactive(live, submission(view, **values))
    assert status == 200 and not body.strip()
    with services.sessions() as session:
        rule = session.scalars(select(ReminderRule)).one()
        assert (rule.query_text, rule.leads) == ("storage", [90, 30])


def test_search_shortcut_opens_a_modal_that_shows_results(
    live: LiveServer, fake: FakeSlack
) -> None:
    status, _ = interactive(
        live, {"type": "shortcut", "callback_id": SHORTCUT_SEARCH, "trigger_id": "4.5.6"}
    )
    assert status == 200
    view = opened_view(fake)
    assert view["callback_id"] == CALLBACK_SEARCH
    _, body = interactive(live, submission(view, query={"type": "plain_text_input", "value": ""}))
    assert json.loads(body)["response_action"] == "errors"
    _, body = interactive(
        live, submission(view, query={"type": "plain_text_input", "value": "storage"})
    )
    answer = json.loads(body)
    assert answer["response_action"] == "update"
    assert View(**answer["view"]).to_dict() == answer["view"]
    assert "Energy Storage" in json.dumps(answer["view"]["blocks"])


def test_app_home_buttons_open_forms_pause_and_delete(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_channel_member("C100", "U100")
    post(f"{live.url}/slack/events", urlencode(slash_form(fake, "subscribe storage")))
    assert count_rows(services, Subscription) == 1
    with services.sessions() as session:
        ref = session.scalars(select(Subscription)).one().ref

    assert event(live, {"type": "app_home_opened", "user": "U100", "tab": "home"}) == 200
    home = opened_view(fake, "views.publish")
    assert home["type"] == "home"
    flat = json.dumps(home)
    assert "New subscription" in flat and "New reminders" in flat and f"pause:{ref}" in flat

    interactive(
        live,
        {
            "type": "block_actions",
            "trigger_id": "5.6.7",
            "container": {"type": "view", "view_id": "VH"},
            "actions": [{"action_id": f"{ACTION_NEW}:remind", "value": "remind"}],
        },
    )
    assert opened_view(fake)["callback_id"] == "policy_remind_form"

    def choose(option: str) -> None:
        fake.clear()
        interactive(
            live,
            {
                "type": "block_actions",
                "trigger_id": "6.7.8",
                "container": {"type": "view", "view_id": "VH"},
                "actions": [
                    {
                        "action_id": f"{ACTION_SETUP}:{ref}",
                        "type": "overflow",
                        "selected_option": {"value": f"{option}:{ref}"},
                    }
                ],
            },
        )
        assert wait_for(lambda: fake.calls_to("views.publish") or fake.calls_to("views.open"))

    choose("pause")
    with services.sessions() as session:
        assert session.scalars(select(Subscription)).one().paused_reason == "paused by analyst"
    assert "paused" in json.dumps(opened_view(fake, "views.publish"))
    choose("pause")  # again: resumes
    with services.sessions() as session:
        assert session.scalars(select(Subscription)).one().paused_reason is None
    choose("edit")
    form = opened_view(fake)
    assert f"changes `{ref}` itself" in json.dumps(form)
    choose("delete")
    assert count_rows(services, Subscription) == 0


def test_brief_menu_shares_the_brief_to_the_channel(live: LiveServer, fake: FakeSlack) -> None:
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "storage")))
    payload = json.loads(body)
    menu = next(
        e
        for b in payload["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "overflow"
    )
    share = next(o for o in menu["options"] if o["value"].startswith("share:"))
    interactive(
        live,
        {
            "type": "block_actions",
            "trigger_id": "7.8.9",
            "channel": {"id": "C100"},
            "container": {"type": "message", "message_ts": "1.2", "is_ephemeral": True},
            "response_url": fake.response_url("share"),
            "actions": [
                {"action_id": menu["action_id"], "type": "overflow", "selected_option": share}
            ],
        },
    )
    assert menu["action_id"].startswith(f"{ACTION_MENU}:")
    assert wait_for(lambda: fake.calls_to("response_url"))
    posted = fake.calls_to("response_url")[0].params
    assert posted["response_type"] == "in_channel" and posted["replace_original"] is False
    assert "Energy Storage" in json.dumps(posted["blocks"])


def test_a_posted_source_link_unfurls_into_the_briefs_card(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    with services.sessions() as session:
        brief = next(
            b for b in session.scalars(select(Brief)) if any("gov.cn" in x for x in b.links)
        )
        url, title = next(x for x in brief.links if "gov.cn" in x), brief.title
    links = [
        {"url": url, "domain": "gov.cn"},
        {"url": "https://www.gov.cn/not-a-brief", "domain": "gov.cn"},
    ]
    status = event(
        live,
        {
            "type": "link_shared",
            "channel": "C100",
            "user": "U100",
            "message_ts": "1.5",
            "links": links,
        },
    )
    assert status == 200
    assert wait_for(lambda: fake.calls_to("chat.unfurl"))
    call = fake.calls_to("chat.unfurl")[0].params
    unfurls = json.loads(call["unfurls"]) if isinstance(call["unfurls"], str) else call["unfurls"]
    assert list(unfurls) == [url]  # the link no brief has is left alone
    card = {"text": title[:100], "blocks": unfurls[url]["blocks"], "response_type": "in_channel"}
    assert_valid_message(card)
    assert title[:60] in texts(card)


def test_forget_asks_first_and_only_the_button_removes(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.set_user("U100", is_admin=True, name="analyst")
    with services.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Brief))
    _, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "forget b2")))
    asked = json.loads(body)
    assert "Forget b2" in asked["text"] and "Pending deliveries" in texts(asked)
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Brief)) == before
    confirm = next(
        e
        for b in asked["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("value") == "forget b2 confirm"
    )
    assert ("Yes, forget b2", "forget b2 confirm") in buttons(asked)
    interactive(
        live,
        {
            "type": "block_actions",
            "trigger_id": "8.9.0",
            "channel": {"id": "C100"},
            "container": {"type": "message", "message_ts": "1.3", "is_ephemeral": True},
            "response_url": fake.response_url("forget"),
            "actions": [confirm],
        },
    )
    assert wait_for(lambda: fake.calls_to("response_url"))
    assert "Removed b2" in fake.calls_to("response_url")[0].params["text"]
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Brief)) == before - 1  # type: ignore[operator]


def _manifest_list(text: str, key: str) -> list[str]:
    """The items of one YAML list in the manifest (`key:` then `- item` lines)."""
    block = re.search(
        rf"^(\s*){re.escape(key)}:\s*(?:#.*)?\n((?:\1\s+-.*\n|\s*#.*\n)+)", text, re.M
    )
    assert block, key
    return [m.group(1) for m in re.finditer(r"-\s+([^\s#]+)", block.group(2))]


def test_manifest_lists_what_the_app_uses() -> None:
    manifest = (ROOT / "slack" / "manifest.yml").read_text()
    scopes = set(_manifest_list(manifest, "bot"))
    assert {"links:read", "links:write", "chat:write", "commands"} <= scopes
    assert "link_shared" in _manifest_list(manifest, "bot_events")
    assert f"callback_id: {SHORTCUT_SEARCH}" in manifest and "type: global" in manifest
    domains = _manifest_list(manifest, "unfurl_domains")
    assert 1 <= len(domains) <= 5  # Slack's limit
    corpus = (ROOT / "data" / "corpus").glob("*.txt")
    hosts = {
        part.split("/")[2]
        for path in corpus
        for part in path.read_text().split()
        if part.startswith("http") and part.split("/")[2].endswith("gov.cn")
    }
    assert hosts and all(any(h == d or h.endswith("." + d) for d in domains) for h in hosts)


def test_oauth_asks_for_exactly_the_manifests_bot_scopes() -> None:
    from policybot.bot.settings import BOT_SCOPES

    manifest = (ROOT / "slack" / "manifest.yml").read_text()
    assert set(_manifest_list(manifest, "bot")) == set(BOT_SCOPES)
