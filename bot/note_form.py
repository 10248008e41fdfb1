"""The Add note button opens a small form; its submission runs `note b2 <text>` through the
same command runner as the typed command, and a refusal comes back under the field."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

from ..data.notes import MAX_NOTE_CHARS
from .modals import ContextFactory
from .payload import metadata, obj
from .payload import text as payload_text
from .services import Services

CALLBACK_NOTE = "policy_note"
ADD_NOTE = re.compile(r"^note (b\d{1,12})$")  # the Add note button's command
MAX_ERROR = 150  # Slack shows a short error under a field


def note_view(ref: str, channel: str) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=CALLBACK_NOTE,
        title="Add a team note",
        submit="Save note",
        close="Cancel",
        private_metadata=json.dumps({"ref": ref, "channel": channel}),
        blocks=[
            SectionBlock(text=f"Your workspace's note on *{ref}*: only your workspace sees it."),
            InputBlock(
                block_id="note",
                label="Note",
                element=PlainTextInputElement(
                    action_id="value", multiline=True, max_length=MAX_NOTE_CHARS
                ),
            ),
        ],
    ).to_dict()


def open_note_form(client: WebClient, trigger_id: str, command: str, channel: str) -> bool:
    """`note b2` from the Add note button opens the form (True) instead of listing notes."""
    match = ADD_NOTE.match(command.strip())
    if match is None or not trigger_id:
        return False
    client.views_open(trigger_id=trigger_id, view=note_view(match.group(1), channel))
    return True


def register(app: App, services: Services, make_context: ContextFactory) -> None:
    @app.view(CALLBACK_NOTE)
    def note_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        meta = metadata(view)
        values = (view.get("state") or {}).get("values") or {}
        text = payload_text(obj(obj(values.get("note")).get("value")).get("value"))
        user = body.get("user") or {}
        ctx = make_context(
            {
                "team_id": (body.get("team") or {}).get("id") or view.get("team_id"),
                "channel_id": payload_text(meta.get("channel")),
                "user_id": user.get("id"),
                "user_name": user.get("name"),
            },
            client,
        )
        if not text.strip():
            ack(response_action="errors", errors={"note": "Write the note first."})
            return
        reply = services.runner.run(f"note {payload_text(meta.get('ref'))} {text}", ctx)
        if reply.is_error:
            ack(response_action="errors", errors={"note": reply.text[:MAX_ERROR]})
            return
        ack()
        if ctx.channel_id:
            client.chat_postEphemeral(channel=ctx.channel_id, user=ctx.user_id, text=reply.text)
