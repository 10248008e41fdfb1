"""The Bolt app: thin listeners that ack, run one handler, render, respond.

Importing this module registers nothing; `build_app` wires a new App each time.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from ..handlers.context import Context
from . import add_brief, intake, menus, modals, note_form, unfurls
from .blocks import ACTION_RUN
from .directory import SlackDirectory
from .dispatcher import ACK_BUDGET_SECONDS, SORRY, WORKING, CommandDispatcher
from .home import publish_home, register_home
from .lifecycle import register_lifecycle
from .logs import request_id
from .oauth import build_oauth_settings
from .payload import text as text_of
from .services import Services
from .settings import Mode
from .slack_client import make_web_client

__all__ = ["NOT_INSTALLED", "SORRY", "WORKING", "build_app", "slack_context"]
log = logging.getLogger(__name__)

NOT_INSTALLED = (
    "policybot is not installed in this workspace (or its installation was removed), so it "
    "cannot answer here. A workspace admin can install it from the bot's /slack/install page."
)


def not_our_command(name: str, ours: tuple[str, ...]) -> str:
    listed = ", ".join(f"`{n}`" for n in ours)
    return f"`{name}` is not a policybot command here; use {listed} (try `{ours[0]} help`)."


def slack_context(
    payload: dict[str, Any], services: Services, client: WebClient, directory: SlackDirectory
) -> Context:
    """Who, where and when for one request; Slack lookups run only if a command needs them."""
    team = payload.get("team_id") or (payload.get("team") or {}).get("id") or ""
    channel = payload.get("channel_id") or (payload.get("channel") or {}).get("id") or ""
    user = payload.get("user_id") or (payload.get("user") or {}).get("id") or ""
    return Context(
        now=services.clock(),
        team_id=team,
        channel_id=channel,
        user_id=user,
        tz=ZoneInfo("UTC"),
        user_timezone=lambda: directory.timezone(client, team, user) if user else None,
        # A name from the payload (no mention markup: replies escape everything they show).
        user_label=str(payload.get("user_name") or (payload.get("user") or {}).get("name") or user),
        is_channel_member=lambda: bool(user) and directory.is_member(client, team, channel, user),
        is_admin=lambda: bool(user) and directory.is_admin(client, team, user),
    )


class _ClientsOwnToken(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


@contextmanager
def _same_token_not_warned(client: WebClient) -> Iterator[None]:
    """Bolt takes its client as given (our base URL and retry handlers) but still reads
    SLACK_BOT_TOKEN from the environment, and warns at every start that this token will be
    unused. When it is the client's own token, nothing is unused: that warning is left out.
    A different token in the environment still warns."""
    if os.environ.get("SLACK_BOT_TOKEN") != client.token:
        yield
        return
    bolt_log = logging.getLogger("slack_bolt.App")
    quiet = _ClientsOwnToken()
    bolt_log.addFilter(quiet)
    try:
        yield
    finally:
        bolt_log.removeFilter(quiet)


def build_app(
    services: Services,
    *,
    client: WebClient | None = None,
    token_verification: bool = True,
    ack_budget: float = ACK_BUDGET_SECONDS,
) -> App:
    settings = services.settings
    client = client or make_web_client(settings, settings.bot_token)
    directory = SlackDirectory(settings.admins, shared=settings.mode is Mode.OAUTH)
    oauth = (
        build_oauth_settings(settings, services.engine, services.sessions, services.clock)
        if settings.mode is Mode.OAUTH
        else None
    )
    with _same_token_not_warned(client):
        app = App(
            client=client,
            signing_secret=settings.signing_secret or "",
            token_verification_enabled=token_verification and oauth is None,
            oauth_settings=oauth,
            raise_error_for_unhandled_request=False,
            user_facing_authorize_error_message=NOT_INSTALLED,
            # Bolt runs each listener on this pool while the request thread waits for its
            # ack: one per request thread, and as many again for listeners still working.
            listener_executor=ThreadPoolExecutor(
                max_workers=2 * settings.http_threads, thread_name_prefix="bolt-listener"
            ),
        )
    register_lifecycle(app, services, oauth)

    @app.middleware
    def tag_request(body: dict[str, Any], next: Any) -> Any:  # noqa: A002 - Bolt's name
        request_id.set(str(body.get("event_id") or body.get("trigger_id") or uuid.uuid4().hex)[:40])
        return next()

    def contexts(payload: dict[str, Any], client: WebClient) -> Context:
        return slack_context(payload, services, client, directory)

    # Commands and their buttons are registered first: Bolt tries each listener's matchers
    # in order until one matches, and these are most of the requests.
    dispatcher = CommandDispatcher(services, ack_budget)
    services.pending_replies = lambda: dispatcher.pool.pending  # a shutdown waits for them

    # Exactly the configured names: a pattern such as ^/policy would also take /policyx.
    @app.command(re.compile("^(?:" + "|".join(map(re.escape, settings.commands)) + ")$"))
    def policy_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ctx = slack_context(command, services, client, directory)
        text = command.get("text") or ""
        if modals.open_from_command(text, command, client, services, ctx):
            ack()  # `subscribe` or `remind` alone: the form opened instead
            return
        refused = add_brief.open_from_command(text, command, client, services, ctx)
        if refused is not None:  # `add`: the add-brief form opened, or why it did not
            if refused:
                ack(text=refused, response_type="ephemeral")
            else:
                ack()
            return
        dispatcher.answer(text, ctx, ack, respond, client)

    # Every other name. Not ".*": Bolt tries the next matching listener when one does not
    # ack within 3 s, and this one must never answer one of ours.
    @app.command(re.compile("^(?!(?:" + "|".join(map(re.escape, settings.commands)) + ")$)"))
    def other_command(ack: Ack, command: dict[str, Any]) -> None:
        # A command the app's manifest routes here but these settings do not answer.
        log.warning("command %s is not one of %s", command.get("command"), settings.commands)
        ack(
            text=not_our_command(str(command.get("command")), settings.commands),
            response_type="ephemeral",
        )

    @app.action(re.compile(f"^{ACTION_RUN}:"))
    def policy_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        ctx = slack_context(body, services, client, directory)
        value = text_of(action.get("value")) or "help"
        if note_form.open_note_form(
            client, str(body.get("trigger_id") or ""), value, ctx.channel_id
        ):
            return  # Add note: a form, not a list of notes
        replaces = ":replace:" in text_of(action.get("action_id"))
        dispatcher.answer_later(value, ctx, respond, client, replaces)

    register_home(app, services, contexts)
    modals.register(
        app,
        services,
        contexts,
        lambda client, team, user: publish_home(services, client, team, user),
    )
    menus.register(app, services, contexts)
    unfurls.register(app, services)
    intake.register(app, services, contexts)
    add_brief.register(app, services, contexts)
    note_form.register(app, services, contexts)

    # Registered last: Bolt routes a request to the first listener that matches, so these
    # take only what nothing above answers. Slack retries a 404'd event and shows an error
    # for a 404'd button or form; an acknowledged one just does nothing.
    def unknown_interaction(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        log.warning("no listener for this %s; acknowledged and ignored", text_of(body.get("type")))

    app.action(re.compile(".*"))(unknown_interaction)
    app.view(re.compile(".*"))(unknown_interaction)
    app.shortcut(re.compile(".*"))(unknown_interaction)

    @app.event(re.compile(".*"))
    def unknown_event(event: dict[str, Any]) -> None:
        # An event the manifest subscribes to and nothing here reads: not a problem.
        log.info("event %s has no listener; ignored", text_of(event.get("type")))

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.error(
            "request failed: %s (type=%s command=%s)",
            type(error).__name__,
            body.get("type"),
            body.get("command"),
            exc_info=error,
        )
        payload = json.dumps({"response_type": "ephemeral", "text": SORRY})
        return BoltResponse(
            status=200, body=payload, headers={"content-type": "application/json;charset=utf-8"}
        )

    return app
