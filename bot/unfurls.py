"""Link unfurls: a posted URL that is a stored brief's source link becomes the brief's card
(`link_shared` event -> `chat.unfurl`). Slack sends only links of the manifest's
unfurl domains."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..data.db import reading
from ..handlers.links import briefs_for_links
from .blocks import brief_card
from .payload import objects, text
from .services import Services

log = logging.getLogger(__name__)


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
        # Slack names the message by unfurl_id and source, or (older events) channel and ts.
        unfurl_id, source = text(event.get("unfurl_id")), text(event.get("source"))
        channel, ts = text(event.get("channel")), text(event.get("message_ts"))
        try:
            if unfurl_id and source:
                client.chat_unfurl(unfurl_id=unfurl_id, source=source, unfurls=unfurls)
            elif channel and ts:
                client.chat_unfurl(channel=channel, ts=ts, unfurls=unfurls)
            else:
                log.warning("link_shared names no message to unfurl in; ignored")
        except SlackApiError as error:  # an id Slack does not know, or the message is gone
            log.warning("chat.unfurl failed: %s", error.response.get("error"))
