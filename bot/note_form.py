"""The Add note button opens a small form (its submission: bot/listeners/views.py runs
`note b2 <text>` through the same command runner as the typed command, and a refusal comes
back under the field)."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

from ..data.notes import MAX_NOTE_CHARS

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
