"""Events API events: App Home opened, links shared (unfurls), files shared (tracker
intake), and the install lifecycle (an uninstall or revoked token pauses a team's
deliveries and drops its tokens; a reinstall, bot/oauth.py, resumes them)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ...data.db import unit_of_work
from ...data.ingest.files import DEFAULT_MAX_BYTES
from ...data.ingest.isolation import reads_for
from ...data.ingest.text import ParseError
from ...data.pauses import UNINSTALLED, pause_team
from ...handlers.intake import stage_upload
from ...handlers.links import briefs_for_links
from .. import emails
from ..blocks import brief_card
from ..home import publish_home
from ..intake import (
    DownloadError,
    download,
    preview_message,
    refusal,
    share_ts,
    tell,
)
from ..payload import objects, text
from .deps import Deps

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    _home_opened(app, deps)
    _link_shared(app, deps)
    _file_shared(app, deps)
    _lifecycle(app, deps)

    @app.event(re.compile(".*"))
    def unknown_event(event: dict[str, Any]) -> None:
        # Registered last. An event the manifest subscribes to and nothing here reads: not
        # a problem (Slack retries a 404'd event).
        log.info("event %s has no listener; ignored", text(event.get("type")))


def _home_opened(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab
        user = event.get("user") or ""
        if not user:
            return
        publish_home(deps.services, client, context.team_id or "", user)


def _link_shared(app: App, deps: Deps) -> None:
    """A posted URL that is a stored brief's source link becomes the brief's card
    (`chat.unfurl`). Slack sends only links of the manifest's unfurl domains."""
    services = deps.services

    @app.event("link_shared")
    def unfurl(event: dict[str, Any], client: WebClient) -> None:
        urls = [text(link.get("url")) for link in objects(event.get("links"))]
        today = services.clock().date()
        with unit_of_work(services.sessions, read_only=True) as session:
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


def _file_shared(app: App, deps: Deps) -> None:
    """A tracker file uploaded to the bot (a DM, or a channel in POLICYBOT_INTAKE_CHANNELS)
    is previewed with Ingest / Cancel buttons and kept pending (bot/intake.py)."""
    services = deps.services
    settings = services.settings
    max_bytes = DEFAULT_MAX_BYTES

    @app.event("file_shared")
    def file_shared(
        event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        channel = str(event.get("channel_id") or "")
        user = str(event.get("user_id") or "")
        file_id = str(event.get("file_id") or (event.get("file") or {}).get("id") or "")
        if not file_id or user == context.bot_user_id:
            return  # our own uploads (calendar exports) are not material
        if not (channel.startswith("D") or channel in settings.intake_channels):
            return  # a file shared in some other channel is none of our business
        try:
            info = dict(client.files_info(file=file_id).get("file") or {})
        except SlackApiError as error:
            log.warning("files.info failed: %s", error.response.get("error"))
            tell(client, channel, user, "I could not look at that file; please try again.", None)
            return
        thread = share_ts(info, channel)
        name = str(info.get("name") or file_id)
        email, why_not = emails.is_email(info), refusal(info, max_bytes)
        email_raw: bytes | None = None
        if email:  # a newsletter sent to the channel's email address: its text is the file
            name = emails.email_name(info)
            email_raw, why_not = emails.email_text(info, max_bytes)
        if why_not:
            tell(client, channel, user, why_not, thread)
            return
        url = str(info.get("url_private_download") or info.get("url_private") or "")
        try:
            raw = (
                email_raw
                if email and email_raw
                else download(url, str(client.token), max_bytes, settings.api_url)
            )
            ctx = deps.make_context(
                {"team_id": body.get("team_id"), "channel_id": channel, "user_id": user}, client
            )
            with reads_for(ctx.team_id):  # one PDF at a time per workspace
                staged = stage_upload(
                    services.sessions, ctx, file_id=file_id, filename=name, raw=raw
                )
        except DownloadError as error:
            tell(client, channel, user, f"I could not download {name}: {error}.", thread)
            return
        except ParseError as error:
            tell(
                client,
                channel,
                user,
                f"I can't ingest {name}: {error.message}. Nothing was added.",
                thread,
            )
            return
        if staged.repeat:
            return  # Slack sent the event again: the preview is posted already
        client.chat_postMessage(channel=channel, thread_ts=thread, **preview_message(staged))


def _lifecycle(app: App, deps: Deps) -> None:
    services = deps.services
    store = deps.oauth.installation_store if deps.oauth is not None else None

    @app.event("app_uninstalled")
    def on_uninstalled(body: dict[str, Any]) -> None:
        team = body.get("team_id") or ""
        enterprise = body.get("enterprise_id")
        if store is not None:
            store.delete_all(enterprise_id=enterprise, team_id=team)
        with unit_of_work(services.sessions) as session:
            paused = pause_team(session, team, UNINSTALLED, services.clock())
        log.info("app uninstalled from %s: paused %s", team, ", ".join(paused) or "nothing")

    @app.event("tokens_revoked")
    def on_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        team = body.get("team_id") or ""
        enterprise = body.get("enterprise_id")
        tokens = event.get("tokens") or {}
        if store is not None:
            for user_id in tokens.get("oauth") or []:
                store.delete_installation(enterprise_id=enterprise, team_id=team, user_id=user_id)
            if tokens.get("bot"):
                store.delete_bot(enterprise_id=enterprise, team_id=team)
        if tokens.get("bot"):
            with unit_of_work(services.sessions) as session:
                paused = pause_team(session, team, UNINSTALLED, services.clock())
            log.info("bot token revoked in %s: paused %s", team, ", ".join(paused) or "nothing")
