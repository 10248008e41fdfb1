"""The follow-up's Met / Missed / Unclear buttons, clicked through the real HTTP endpoint;
and channel permissions checked with Slack's own member list."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from sqlalchemy import func, select

from policybot.bot.blocks import render_blocks
from policybot.bot.posters import as_reply
from policybot.bot.services import Services
from policybot.data.models import Goal, GoalAssessment, GoalStatus, Subscription
from policybot.data.views import brief_view, goal_view
from policybot.scheduler.messages import FollowUp
from tests.bot.conftest import LiveServer
from tests.bot.test_http import post, slash_form, wait_for
from tests.conftest import NOW
from tests.fakeslack import FakeSlack


def test_follow_up_button_records_the_answer_and_updates_the_message(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    with services.sessions() as session:
        goal = session.scalar(select(Goal).where(Goal.text.like("Airbus%")))
        assert goal is not None
        message = FollowUp(goal_view(goal, NOW.date()), brief_view(goal.brief, NOW.date()), (1,))
    payload = render_blocks(as_reply(message))
    buttons = [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    missed = next(b for b in buttons if b["text"]["text"] == "Missed")
    click = {
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
            "text": payload["text"],
            "blocks": payload["blocks"],
        },
        "response_url": fake.response_url("followup"),
        "actions": [{**missed, "block_id": "b", "action_ts": "1700000001.000200"}],
    }
    status, _ = post(f"{live.url}/slack/events", urlencode({"payload": json.dumps(click)}))
    assert status == 200
    assert wait_for(lambda: fake.calls_to("response_url"))
    update = fake.calls_to("response_url")[0].params
    assert update["replace_original"] is True
    assert f"{goal.ref} marked missed by analyst" in update["text"]
    with services.sessions() as session:
        answer = session.scalar(select(GoalAssessment))
    assert answer is not None
    assert (answer.team_id, answer.goal_id, answer.status, answer.answered_by) == (
        "T1",
        goal.id,
        GoalStatus.MISSED,
        "U7",
    )
    assert answer.answered_at == NOW


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
