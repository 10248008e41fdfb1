"""Shortcuts: the global "Search policies" and the message shortcut "Add to policybot"."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from ..add_brief import SHORTCUT_ADD_MESSAGE, open_add_form
from ..blocks import escape
from ..modals import SHORTCUT_SEARCH, search_view
from ..payload import text as text_of
from .deps import Deps

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    @app.shortcut(SHORTCUT_SEARCH)
    def open_search(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=search_view("", None))

    @app.shortcut(SHORTCUT_ADD_MESSAGE)
    def from_message(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        channel = str((body.get("channel") or {}).get("id") or "")
        ctx = deps.make_context(body, client)
        text = str((body.get("message") or {}).get("text") or "")
        trigger_id = str(body.get("trigger_id"))
        problem = open_add_form(client, deps.services, ctx, trigger_id, text, channel)
        if problem:
            client.chat_postEphemeral(channel=channel, user=ctx.user_id, text=escape(problem))

    @app.shortcut(re.compile(".*"))
    def unknown_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()  # registered last: an acknowledged shortcut just does nothing
        log.warning("no listener for this %s; acknowledged and ignored", text_of(body.get("type")))
