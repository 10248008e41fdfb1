"""A brief's overflow menu (Share to channel, Subscribe to similar, Remind me of its goals)
and its Source button, on every message that lists briefs or deadlines."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from ..data.db import reading
from ..handlers.panel import SetupForm, brief_by_ref, goals_query, similar_query
from .blocks import ACTION_LINK, ACTION_MENU, MENU_REMIND, MENU_SHARE, render_blocks
from .modals import ContextFactory, open_setup
from .services import Services

GONE = "That brief is no longer stored."


def register(app: App, services: Services, make_context: ContextFactory) -> None:
    @app.action(re.compile(f"^{ACTION_LINK}:"))
    def source_opened(ack: Ack) -> None:
        ack()  # Slack opened the URL; nothing to do but say we heard it

    @app.action(re.compile(f"^{ACTION_MENU}:"))
    def menu_chosen(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        what, _, ref = str((action.get("selected_option") or {}).get("value") or "").partition(":")
        ctx = make_context(body, client)
        if what == MENU_SHARE:
            # The brief in full, posted to the channel (as `show b2 share` would).
            payload = render_blocks(services.runner.run(f"show {ref} share", ctx))
            respond(**payload, replace_original=False)
            return
        with reading(services.sessions) as session:
            brief = brief_by_ref(session, ref, ctx.today)
        if brief is None:
            respond(text=GONE, response_type="ephemeral", replace_original=False)
            return
        query = goals_query(brief) if what == MENU_REMIND else similar_query(brief)
        kind = "remind" if what == MENU_REMIND else "subscribe"
        form = SetupForm("", kind, ctx.channel_id, query, zone=ctx.zone.key)
        open_setup(client, services, str(body.get("trigger_id")), form)
