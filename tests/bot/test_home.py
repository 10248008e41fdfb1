"""The App Home tab: handlers.home builds the values, bot.home renders a view that slack_sdk's
View model accepts and that stays within 100 blocks however much a user has set up."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from slack_sdk.models.views import View

from policybot.bot.home import MAX_BLOCKS, render_home
from policybot.bot.services import Services
from policybot.data.models import ReminderRule, ScheduleKind, Subscription
from policybot.data.views import BriefView, DeadlineView, GoalView
from policybot.handlers.context import Context
from policybot.handlers.home import ChannelView, HomeView, SetupView, build_home
from tests.conftest import NOW


def validated(payload: dict[str, Any]) -> dict[str, Any]:
    """Round-trip through slack_sdk's models: raises SlackObjectFormationError on a bad view."""
    assert payload["type"] == "home"
    out: dict[str, Any] = View(type="home", blocks=payload["blocks"]).to_dict()
    assert len(out["blocks"]) <= MAX_BLOCKS
    return out


def add_setups(
    services: Services, user: str, team: str, subscriptions: int, rules: int, channels: int
) -> None:
    with services.sessions() as session, session.begin():
        for i in range(subscriptions):
            session.add(
                Subscription(
                    team_id=team,
                    channel_id=f"C{i % channels:04d}",
                    created_by=user,
                    query_text=f"storage body:MIIT topic{i}",
                    schedule=ScheduleKind.DAILY,
                    at_minute=9 * 60,
                    timezone="Europe/Berlin",
                    created_at=NOW,
                    checked_until=NOW,
                    next_due_at=NOW + timedelta(days=1),
                    paused_reason="channel_not_found" if i == 3 else None,
                )
            )
        for i in range(rules):
            session.add(
                ReminderRule(
                    team_id=team,
                    channel_id=f"C{i % channels:04d}",
                    created_by=user,
                    query_text=f"battery{i}",
                    leads=[90, 30, 7],
                    at_minute=8 * 60,
                    timezone="UTC",
                    created_at=NOW,
                )
            )


def home_for(services: Services, user: str = "U1", team: str = "T1") -> HomeView:
    with services.sessions() as session:
        return build_home(session, Context(now=NOW, team_id=team, user_id=user))


def text_of(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_home_shows_deadlines_latest_briefs_and_the_users_channels(services: Services) -> None:
    add_setups(services, "U1", "T1", subscriptions=2, rules=1, channels=2)
    add_setups(services, "U2", "T1", subscriptions=1, rules=1, channels=1)  # someone else's
    add_setups(services, "U1", "T9", subscriptions=1, rules=0, channels=1)  # another workspace
    # U2 follows "battery0" with a reminder rule: only matching goals, none here.
    followed = home_for(services, "U2")
    assert followed.followed_only and followed.deadlines == ()
    assert "Your deadlines in the next 12 months" in text_of(validated(render_home(followed)))
    # U1's rule follows nothing either; someone with no rules sees every goal.
    home = everyone = home_for(services, "U3")
    # Deadlines in the next 12 months from NOW (2026-11-29): none; the one goal due then,
    # Airbus's line (2026-12-31), is a company commitment, not a policy target.
    assert [d.goal.due_on for d in home.deadlines] == []
    assert home.deadlines_total == 0
    assert not home.followed_only
    assert len(home.latest) == 5
    home = home_for(services)
    assert [c.channel_id for c in home.channels] == ["C0000", "C0001"]
    assert home.setups_total == 3
    c0 = home.channels[0]
    assert [s.kind for s in c0.setups] == ["subscription", "reminders"]
    assert c0.setups[1].when == "90d, 30d, 7d before, at 08:00 UTC"
    assert c0.setups[0].what == "storage body:MIIT topic0"

    everyone_shown = text_of(validated(render_home(everyone)))
    assert "Deadlines in the next 12 months" in everyone_shown
    assert "Airbus announced it will open a second A320 assembly line" not in everyone_shown
    payload = validated(render_home(home))
    shown = text_of(payload)
    assert "Latest briefs" in shown
    assert "The MIIT published typical application cases of advanced computing." in shown
    assert "<#C0000>" in shown and "<#C0001>" in shown
    assert "daily at 09:00 Europe/Berlin" in shown
    assert "reminders for battery0" in shown
    assert "topic0" in shown and "topic1" in shown
    assert "U2" not in shown and "C0002" not in shown


def test_user_without_setups_gets_a_hint(services: Services) -> None:
    payload = validated(render_home(home_for(services, user="UNEW")))
    assert "You have not set up any channel yet" in text_of(payload)


def test_many_subscriptions_stay_within_100_blocks(services: Services) -> None:
    add_setups(services, "U1", "T1", subscriptions=200, rules=50, channels=150)
    home = home_for(services)
    assert home.setups_total == 250
    assert len(home.channels) == 150
    payload = validated(render_home(home))
    assert MAX_BLOCKS - 3 <= len(payload["blocks"]) <= MAX_BLOCKS
    last = text_of(payload["blocks"][-1])
    assert "more channels" in last
    shown_channels = text_of(payload).count("<#C")
    assert 20 < shown_channels < 150  # each setup has its own line with Pause / Edit / Delete
    assert f"and {150 - shown_channels} more channels" in last


def test_one_crowded_channel_is_cut_inside_its_section(services: Services) -> None:
    add_setups(services, "U1", "T1", subscriptions=200, rules=50, channels=1)
    payload = validated(render_home(home_for(services)))
    shown = text_of(payload)
    assert shown.count("<#C0000>") == 1
    assert "more here" in shown
    assert "reminders for" in shown  # rules are listed after the subscriptions, still reachable


def _goal(i: int, text: str) -> GoalView:
    return GoalView(f"g{i}", text, date(2027, 1, 1), "window", date(2026, 1, 1), "open", 33)


def _brief(i: int, text: str) -> BriefView:
    return BriefView(
        f"b{i}",
        "policy",
        text,
        text,
        ("MIIT",) * 30,
        True,
        date(2024, 1, 1),
        text,
        text,
        (),
        None,
        (_goal(i, text),),
    )


@pytest.mark.parametrize("size", [1, 200, 5000])
def test_long_and_hostile_text_is_cut_and_escaped(size: int) -> None:
    text = ("<!channel> & *x* " * size)[: size * 17]
    home = HomeView(
        user_id="U1",
        today=date(2026, 11, 29),
        horizon_months=12,
        deadlines=tuple(DeadlineView(_goal(i, text), _brief(i, text)) for i in range(40)),
        deadlines_total=400,
        latest=tuple(_brief(i, text) for i in range(5)),
        channels=tuple(
            ChannelView(
                f"C{i}" if i % 2 else "not a channel <@U1>",
                tuple(SetupView(f"s{j}", "subscription", text, "daily", text) for j in range(30)),
            )
            for i in range(120)
        ),
        setups_total=3600,
    )
    payload = validated(render_home(home))
    for block in payload["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    shown = text_of(payload)
    assert "<!channel>" not in shown and "<@U1>" not in shown
    assert "&lt;!channel&gt;" in shown
    assert "and 385 more deadlines" in shown
