"""The follow-up's Met / Missed / Unclear buttons, clicked through the real HTTP endpoint;
and channel permissions checked with Slack's own member list."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from policybot.bot.blocks import render_blocks
from policybot.bot.posters import follow_up_payload
from policybot.bot.services import Services
from policybot.data.models import (
    Goal,
    GoalAssessment,
    GoalAssessmentChange,
    GoalStatus,
    Subscription,
)
from policybot.data.views import DeadlineView, brief_view, goal_view
from policybot.handlers.digests import reply_for
from policybot.scheduler.messages import FollowUp
from tests.bot.conftest import LiveServer
from tests.bot.test_blocks import assert_valid_message, buttons, texts
from tests.bot.test_http import post, slash_form, wait_for
from tests.conftest import NOW
from tests.fakeslack import FakeSlack


def click(
    live: LiveServer,
    fake: FakeSlack,
    message: dict[str, Any],
    label: str,
    key: str,
    value: str | None = None,
) -> dict[str, Any]:
    """Press the button `label` (with `value`, when given) on `message` as U7 in C100; the
    response_url's update."""
    buttons = [
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button" and "value" in e
    ]
    button = next(b for b in buttons if b["text"]["text"] == label and value in (None, b["value"]))
    body = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "policy"},
        "user": {"id": "U7", "name": "analyst", "team_id": "T1"},
        "api_app_id": "A100",
        "token": "x",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C100"},
        "trigger_id": "1.2.3",
        "channel": {"id": "C100", "name": "policy"},
        "message": {
            "ts": "1700000000.000100",
            "text": message["text"],
            "blocks": message["blocks"],
        },
        "response_url": fake.response_url(key),
        "actions": [{**button, "block_id": "b", "action_ts": "1700000001.000200"}],
    }
    status, _ = post(f"{live.url}/slack/events", urlencode({"payload": json.dumps(body)}))
    assert status == 200
    path = f"/response/{key}"
    assert wait_for(lambda: any(c.path == path for c in fake.calls_to("response_url")))
    return next(c.params for c in fake.calls_to("response_url") if c.path == path)


def test_follow_up_answer_updates_the_question_and_can_be_changed(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    with services.sessions() as session:
        goal = session.scalar(select(Goal).where(Goal.text.like("Airbus%")))
        assert goal is not None
        card = DeadlineView(goal_view(goal, NOW.date()), brief_view(goal.brief, NOW.date()))
        message = FollowUp((card,), (1,))
    payload = render_blocks(reply_for(message))

    update = click(live, fake, payload, "Missed", "first")
    assert update["replace_original"] is True
    assert "response_type" not in update  # the channel's message is updated in place
    shown_message = {k: update[k] for k in ("text", "blocks")}
    assert_valid_message({**shown_message, "response_type": "in_channel"})
    assert f"{goal.ref} marked missed by analyst" in update["text"]
    shown = texts(update)
    assert "Was this target met?" in shown and goal.text in shown  # the question stays
    assert [label for label, _ in buttons(update)][-3:] == ["Met", "Missed", "Unclear"]

    # A wrong click is corrected on the same message; the first answer stays in the history.
    corrected = click(live, fake, update, "Met", "second")
    assert f"{goal.ref} marked met by analyst" in corrected["text"]
    assert "Earlier answers" in texts(corrected) and "missed \u2014 analyst" in texts(corrected)
    with services.sessions() as session:
        answer = session.scalar(select(GoalAssessment))
        history = session.scalars(
            select(GoalAssessmentChange).order_by(GoalAssessmentChange.id)
        ).all()
        assert answer is not None
        assert (answer.team_id, answer.goal_id, answer.status, answer.answered_by) == (
            "T1",
            goal.id,
            GoalStatus.MET,
            "U7",
        )
        assert answer.answered_at == NOW
        assert [(h.status, h.answered_by, h.goal_id) for h in history] == [
            (GoalStatus.MISSED, "U7", goal.id),
            (GoalStatus.MET, "U7", goal.id),
        ]


def test_a_follow_up_about_several_goals_answers_each_and_keeps_the_others(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    """One message asks about several goals: a click answers its own goal (to the clicker)
    and leaves the message, with the other goals' buttons, as it is."""
    with services.sessions() as session:
        goals = list(
            session.scalars(
                select(Goal).where(Goal.due_on.is_not(None)).order_by(Goal.due_on).limit(3)
            )
        )
        cards = tuple(
            DeadlineView(goal_view(g, NOW.date()), brief_view(g.brief, NOW.date())) for g in goals
        )
    message = FollowUp(cards, (1, 2, 3))
    payload = follow_up_payload(message)
    assert_valid_message({**payload, "response_type": "in_channel"})
    second = goals[0]  # the one due soonest (the others are years off), shown second
    update = click(live, fake, payload, "Missed", "several", f"status {second.ref} missed")
    assert update["replace_original"] is False  # the question about the others stays
    assert f"{second.ref} marked missed by analyst" in update["text"]
    with services.sessions() as session:
        answers = [(a.goal_id, a.status) for a in session.scalars(select(GoalAssessment))]
    assert answers == [(second.id, GoalStatus.MISSED)]


def test_non_member_cannot_subscribe_a_channel(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_channel_member("C100", "USOMEONE-ELSE")
    status, body = post(
        f"{live.url}/slack/events", urlencode(slash_form(fake, "subscribe storage"))
    )
    assert status == 200
    assert "Only members of this channel" in json.loads(body)["text"]
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert [c.params.get("channel") for c in fake.calls_to("conversations.members")] == ["C100"]
