"""Link unfurls: a posted URL that is a stored brief's source link becomes the brief's card
(`link_shared` event -> `chat.unfurl`). Slack sends only links of the manifest's
unfurl domains."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from policybot.bot.blocks import brief_card
from policybot.bot.payload import objects, text
from policybot.bot.services import Services
from policybot.data.db import reading
from policybot.handlers.links import briefs_for_links


def register(app: App, services: Services) -> None:
    @app.event("link_shared")
    def unfurl(event: dict[str, Any], client: WebClient) -> None:
        urls = [text(link.get("url")) for link in objects(event.get("links"))]
        today = services.clock().date()
        with reading(services.sessions) as session:
            found = briefs_for_links(session, [u for u in urls if u], today)
        if not found:
            return
        unfurls = {url: {"blocks": brief_card(brief)} for url, brief in found.items()}
        if event.get("unfurl_id") and event.get("source"):
            client.chat_unfurl(
                unfurl_id=event["unfurl_id"], source=event["source"], unfurls=unfurls
            )
        else:
            client.chat_unfurl(
                channel=event.get("channel"), ts=event.get("message_ts"), unfurls=unfurls
            )
