"""Editing a subscription or reminder rule from App Home keeps the row: open Edit on App Home
(a signed `block_actions`), submit the form as Slack sends it back (`view_submission` whose
state holds the form's initial values), and compare every stored column, id included.

Every cadence the typed grammar accepts is set up by a typed command first, so the form
must carry each of them (instant with a time, daily, weekdays, weekly <day>, every <day>,
<day>s, monthly, monthly on the Nth, the 31st), with filters, exclusions, `kind:company`,
`due:` and time zones in the words. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import inspect, select

from policybot.bot.dispatcher import WORKING
from policybot.bot.home import ACTION_SETUP
from policybot.bot.services import Services, load_demo_corpus
from policybot.bot.settings import Settings
from policybot.data.db import make_engine, session_factory
from policybot.data.models import ChannelSettings, ReminderRule, Subscription
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, LiveServer
from tests.bot.test_http import slash_form
from tests.bot.test_panel import USER
from tests.conftest import NOW
from tests.fakeslack import FakeSlack

Row = dict[str, Any]
# A busy machine (many test workers on two cores) can take seconds per request: these are
# limits on waiting for something that does happen, never a pause.
PATIENCE = 60.0


def post(url: str, body: str) -> tuple[int, str]:
    """A request signed as Slack signs it (tests/bot/test_http.py's, with more patience)."""
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=PATIENCE) as response:
        return response.status, response.read().decode()


def interactive(live: LiveServer, body: dict[str, Any]) -> tuple[int, str]:
    base = {"team": {"id": "T1", "domain": "policy"}, "user": USER, "api_app_id": "A100"}
    return post(
        f"{live.url}/slack/events",
        urlencode({"payload": json.dumps({**base, "token": "x", **body})}),
    )


def wait_for(condition: Any) -> bool:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def opened_view(fake: FakeSlack) -> dict[str, Any]:
    assert wait_for(lambda: fake.calls_to("views.open")), [c.method for c in fake.calls]
    view = fake.calls_to("views.open")[-1].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert View(**view).to_dict() == view  # slack_sdk accepts it as it is
    return dict(view)


# (cadence kind, the typed command that sets it up)
SUBSCRIPTIONS = (
    ("instant", "subscribe storage instant tz Asia/Shanghai"),
    ("instant at", "subscribe kind:news -rumour instant at 07:00 tz Europe/Berlin"),
    ("daily", "subscribe body:MIIT kind:policy -battery daily at 07:15 tz Europe/Berlin"),
    ("daily (default)", "subscribe at 05:45"),
    ("weekdays", "subscribe semiconductors OR chips weekdays at 8am"),
    ("weekly <day>", "subscribe kind:company weekly friday at 16:45 tz America/New_York"),
    ("weekly on <day>", 'subscribe "smart factory" weekly on sunday at 23:59'),
    ("every <day>", "subscribe hydrogen every wednesday at 10:00 tz Asia/Kolkata"),
    ("<day>s", "subscribe 储能 mondays at 06:30 tz Asia/Shanghai"),
    ("monthly", "subscribe due:2027 monthly at 06:00"),
    ("monthly on the Nth", "subscribe since:2024-01-01 monthly on the 15th at 12:30 tz Asia/Tokyo"),
    ("monthly on the 31st", 'subscribe -body:NDRC "new energy" due:..2030 monthly on the 31st'),
)
RULES = (
    ("leads at tz", "remind storage leads 90,30,7 at 08:00 tz Europe/Berlin"),
    ("defaults", "remind kind:company"),
    ("eleven leads", "remind body:NDRC leads 400,200,100,50,20,10,5,3,2,1,0 at 17:30"),
    ("all goals", "remind leads 30 at 06:15 tz Asia/Shanghai"),
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, fake: FakeSlack) -> Settings:
    if request.param == "postgres":
        url = str(request.getfixturevalue("fresh_postgres_url"))
        engine = make_engine(url)  # a server database gets no demo corpus by itself
        load_demo_corpus(session_factory(engine), NOW)
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'edit.sqlite3'}"
    return Settings.from_env(
        {},
        database_url=url,
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
    )


def typed(live: LiveServer, fake: FakeSlack, text: str, channel: str = "C100") -> str:
    """A slash command's reply: in the ack, or (a busy machine) through its response_url."""
    earlier = len(fake.calls_to("response_url"))
    status, body = post(
        f"{live.url}/slack/events", urlencode(slash_form(fake, text, channel_id=channel))
    )
    assert status == 200, body
    answer = str(json.loads(body)["text"])
    if answer != WORKING:
        return answer
    assert wait_for(lambda: len(fake.calls_to("response_url")) > earlier)
    return str(fake.calls_to("response_url")[earlier].params["text"])


def columns(row: object) -> Row:
    """Every stored column of a row, by attribute name."""
    return {a.key: getattr(row, a.key) for a in inspect(type(row)).column_attrs}


def stored(services: Services, model: type[Subscription] | type[ReminderRule]) -> list[Row]:
    with services.sessions() as session:
        rows = session.scalars(select(model).order_by(model.id))
        return [columns(r) for r in rows]


def quiet_hours(services: Services) -> list[tuple[str, str, int | None, int | None]]:
    with services.sessions() as session:
        return [
            (s.channel_id, s.timezone, s.quiet_start, s.quiet_end)
            for s in session.scalars(select(ChannelSettings))
        ]


def open_edit(live: LiveServer, fake: FakeSlack, ref: str) -> dict[str, Any]:
    """Edit in the setup's overflow menu on App Home; returns the form Slack opened."""
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
                    "selected_option": {"value": f"edit:{ref}"},
                }
            ],
        },
    )
    return opened_view(fake)


def untouched(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The state Slack submits for a form nobody touched: each input's initial value."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        state: dict[str, Any] = {"type": element["type"]}
        if element["type"] == "plain_text_input":
            state["value"] = element.get("initial_value")
        elif element["type"] == "static_select":
            state["selected_option"] = element.get("initial_option")
        elif element["type"] == "timepicker":
            state["selected_time"] = element.get("initial_time")
        elif element["type"] == "conversations_select":
            state["selected_conversation"] = element.get("initial_conversation")
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def save(live: LiveServer, fake: FakeSlack, view: dict[str, Any], **changes: Any) -> str:
    """Submit the form with some fields changed; returns the response body (empty: closed)
    after the confirmation was posted."""
    values = untouched(view)
    for block_id, change in changes.items():
        (action_id, state), *_ = values[block_id].items()
        state.update(change)
    fake.clear()
    body = {
        "type": "view_submission",
        "trigger_id": "2.3.4",
        "view": {**view, "id": "V1", "hash": "h1", "team_id": "T1", "state": {"values": values}},
    }
    status, answer = interactive(live, body)
    assert status == 200, answer
    if not answer.strip():
        assert wait_for(lambda: fake.calls_to("chat.postEphemeral"))
    return answer


def said(fake: FakeSlack) -> str:
    calls = fake.calls_to("chat.postEphemeral")
    return " ".join(f"{c.params.get('text')} {c.params.get('blocks')}" for c in calls)


def differences(before: Row, after: Row) -> set[str]:
    return {key for key in before if before[key] != after.get(key)}


def test_every_cadence_and_rule_round_trips_through_the_edit_form(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_channel_member("C100", "U100")
    fake.set_user("U100", tz="America/Chicago", name="analyst")
    for _, command in SUBSCRIPTIONS + RULES:
        answer = typed(live, fake, command)
        assert answer.startswith(("Subscribed", "Reminders on")), (command, answer)
    typed(live, fake, "quiet 20:00-08:00 tz Europe/Berlin")
    quiet = quiet_hours(services)
    subs, rules = stored(services, Subscription), stored(services, ReminderRule)
    assert len(subs) == len(SUBSCRIPTIONS) and len(rules) == len(RULES)
    assert subs[10]["month_day"] == 15 and subs[11]["month_day"] == 31
    assert subs[1]["at_minute"] == 7 * 60 and len(rules[2]["leads"]) == 11

    cases = [(k, "s", r) for (k, _), r in zip(SUBSCRIPTIONS, subs, strict=True)]
    cases += [(k, "r", r) for (k, _), r in zip(RULES, rules, strict=True)]
    failures: list[str] = []
    kept = 0
    for kind, prefix, before in cases:
        ref = f"{prefix}{before['id']}"
        model = Subscription if prefix == "s" else ReminderRule
        answer = save(live, fake, open_edit(live, fake, ref))
        after = {r["id"]: r for r in stored(services, model)}.get(before["id"])
        if answer.strip() or after is None or differences(before, after) or "Removed" in said(fake):
            failures.append(f"{kind} {ref} unchanged save: {answer[:200]} {said(fake)[:200]}")
            continue
        # One field changed: the time. Only it (and when the next digest is due, or
        # from when a rule watches) may change.
        answer = save(live, fake, open_edit(live, fake, ref), time={"selected_time": "21:05"})
        after = {r["id"]: r for r in stored(services, model)}.get(before["id"])
        allowed = {"at_minute", "next_due_at", "created_at" if prefix == "r" else "at_minute"}
        if (
            answer.strip()
            or after is None
            or after["at_minute"] != 21 * 60 + 5
            or differences(before, after) - allowed
            or "Removed" in said(fake)
        ):
            failures.append(f"{kind} {ref} time change: {answer[:200]} {said(fake)[:200]}")
            continue
        kept += 1
    print(f"edit round-trips kept: {kept} of {len(cases)}")
    assert failures == []
    assert len(stored(services, Subscription)) == len(SUBSCRIPTIONS)
    assert quiet_hours(services) == quiet  # quiet hours are the channel's: untouched


def test_changing_cadence_zone_channel_and_leads_keeps_the_id(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    for channel in ("C100", "C200"):
        fake.add_channel_member(channel, "U100")
    typed(live, fake, "subscribe kind:company weekly friday at 16:45 tz Europe/Berlin")
    typed(live, fake, "remind storage leads 90,30 at 08:00")
    (sub,), (rule,) = stored(services, Subscription), stored(services, ReminderRule)
    ref = f"s{sub['id']}"

    view = open_edit(live, fake, ref)
    assert save(
        live, fake, view, cadence={"selected_option": {"value": "monthly"}},
        month_day={"selected_option": {"value": "20"}},
    ) == ""  # fmt: skip
    (after,) = stored(services, Subscription)
    assert differences(sub, after) == {"schedule", "weekday", "month_day", "next_due_at"}
    assert (after["schedule"], after["weekday"], after["month_day"]) == ("monthly", None, 20)
    assert after["next_due_at"] > sub["next_due_at"]
    assert "Updated" in said(fake) and "monthly on the 20th" in said(fake)

    view = open_edit(live, fake, ref)
    assert save(live, fake, view, tz={"value": "Asia/Tokyo"}) == ""
    (moved,) = stored(services, Subscription)
    assert differences(after, moved) == {"timezone", "next_due_at"}

    view = open_edit(live, fake, ref)
    assert save(live, fake, view, channel={"selected_conversation": "C200"}) == ""
    (moved_channel,) = stored(services, Subscription)
    assert differences(moved, moved_channel) == {"channel_id"}
    assert moved_channel["channel_id"] == "C200"

    view = open_edit(live, fake, f"r{rule['id']}")
    assert save(live, fake, view, leads={"value": "60, 14,3"}) == ""
    (rule_after,) = stored(services, ReminderRule)
    assert {"leads"} <= differences(rule, rule_after) <= {"leads", "created_at"}
    assert rule_after["leads"] == [60, 14, 3]


def test_words_of_another_subscription_are_refused_and_nothing_changes(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_channel_member("C100", "U100")
    typed(live, fake, "subscribe storage weekly friday")
    typed(live, fake, "subscribe hydrogen monthly on the 15th")
    typed(live, fake, "remind storage")
    typed(live, fake, "remind hydrogen leads 30")
    subs, rules = stored(services, Subscription), stored(services, ReminderRule)

    for ref, taken in ((f"s{subs[1]['id']}", subs[0]), (f"r{rules[1]['id']}", rules[0])):
        answer = json.loads(
            save(live, fake, open_edit(live, fake, ref), query={"value": "storage"})
        )
        assert answer["response_action"] == "errors" and list(answer["errors"]) == ["query"]
        assert f"{'s' if ref[0] == 's' else 'r'}{taken['id']}" in answer["errors"]["query"]
    assert stored(services, Subscription) == subs
    assert stored(services, ReminderRule) == rules


def test_a_paused_subscription_stays_paused_through_an_edit(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_channel_member("C100", "U100")
    typed(live, fake, "subscribe storage daily at 09:00")
    (sub,) = stored(services, Subscription)
    ref = f"s{sub['id']}"
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
                    "selected_option": {"value": f"pause:{ref}"},
                }
            ],
        },
    )
    assert wait_for(lambda: stored(services, Subscription)[0]["paused_reason"])
    (paused,) = stored(services, Subscription)
    assert isinstance(paused["paused_at"], datetime)
    assert save(live, fake, open_edit(live, fake, ref), query={"value": "storage -pumped"}) == ""
    (after,) = stored(services, Subscription)
    assert differences(paused, after) == {"query_text"}
    assert "still paused" in said(fake)


def test_moving_to_a_channel_the_user_is_not_in_is_refused(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_channel_member("C100", "U100")
    fake.add_channel_member("C300", "USOMEONE")
    typed(live, fake, "subscribe storage daily")
    before = stored(services, Subscription)
    view = open_edit(live, fake, f"s{before[0]['id']}")
    answer = json.loads(save(live, fake, view, channel={"selected_conversation": "C300"}))
    assert list(answer["errors"]) == ["channel"]
    assert stored(services, Subscription) == before
