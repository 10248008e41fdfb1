"""The Add note button opens a form; its submission stores the workspace's note once, and a
bad note comes back under the field. Signed requests to the real HTTP endpoint."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from policybot.bot.blocks import ACTION_RUN
from policybot.bot.note_form import CALLBACK_NOTE
from policybot.bot.services import Services
from policybot.data.models import Brief, TeamNote
from tests.bot.conftest import LiveServer
from tests.bot.test_panel import interactive, opened_view, submission
from tests.fakeslack import FakeSlack


def _notes(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(TeamNote)) or 0


def test_add_note_opens_a_form_and_saves_the_note(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    with services.sessions() as session:
        brief_id = session.scalar(select(Brief.id).order_by(Brief.id).limit(1))
    click = {
        "type": "block_actions",
        "trigger_id": "1.2.3",
        "channel": {"id": "C100"},
        "container": {"type": "message", "channel_id": "C100"},
        "response_url": fake.response_url("note"),
        "actions": [
            {
                "type": "button",
                "action_id": f"{ACTION_RUN}:7",
                "value": f"note b{brief_id}",
                "block_id": "b",
                "action_ts": "1",
            }
        ],
    }
    status, _ = interactive(live, click)
    assert status == 200
    view = opened_view(fake)
    assert view["callback_id"] == CALLBACK_NOTE
    note = {"note": {"type": "plain_text_input", "value": "x" * 1001}}
    status, body = interactive(live, submission(view, **note))
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and "note" in answer["errors"]
    assert _notes(services) == 0
    good = {"note": {"type": "plain_text_input", "value": "Ask about the sodium-ion pilots."}}
    status, body = interactive(live, submission(view, **good))
    assert status == 200 and not body.strip()  # the form closes
    with services.sessions() as session:
        saved = session.scalars(select(TeamNote)).one()
        assert (saved.team_id, saved.author, saved.text) == (
            "T1",
            "U100",
            "Ask about the sodium-ion pilots.",
        )


def test_notes_and_earlier_answers_name_people_as_mentions(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    from urllib.parse import urlencode

    from policybot.bot.dispatcher import WORKING
    from policybot.data.models import Goal
    from tests.bot.test_blocks import assert_valid_message, texts
    from tests.bot.test_http import post, slash_form, wait_for

    with services.sessions() as session:
        brief_id = session.scalar(select(Brief.id).order_by(Brief.id).limit(1))
        goal_id = session.scalar(select(Goal.id).where(Goal.due_on.is_not(None)).limit(1))
    assert goal_id is not None

    def slash(text: str, user: str) -> dict[str, object]:
        """The reply: in the ack, or (a busy machine) through the response_url."""
        earlier = len(fake.calls_to("response_url"))
        form = slash_form(fake, text, user_id=user, user_name=user.lower())
        status, body = post(f"{live.url}/slack/events", urlencode(form))
        assert status == 200
        payload = json.loads(body)
        if payload.get("text") == WORKING:
            assert wait_for(lambda: len(fake.calls_to("response_url")) > earlier, 60)
            payload = dict(fake.calls_to("response_url")[earlier].params)
            payload.pop("replace_original", None)
        assert_valid_message(payload)
        return dict(payload)

    slash(f"note b{brief_id} ask <@U999> about <!channel> & more", "U100")
    shown = texts(slash(f"show b{brief_id}", "U200"))
    assert "<@U100> on " in shown and "U100 on" not in shown.replace("<@U100> on", "")
    assert "ask &lt;@U999&gt; about &lt;!channel&gt; &amp; more" in shown

    slash(f"status g{goal_id} met confirm", "U100")  # `confirm`: however early
    answered = texts(slash(f"status g{goal_id} missed confirm", "U200"))
    assert "Earlier answers" in answered and "met \u2014 <@U100>," in answered
