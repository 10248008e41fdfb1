"""The Bolt app: its settings, the request-id middleware, the error handler, and the five
listener modules of bot/listeners/ (thin listeners that ack, run one handler, render,
respond), each registered with one `register(app, deps)`.

Importing this module registers nothing; `build_app` wires a new App each time.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import App, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from ..handlers.context import Context
from .directory import SlackDirectory
from .dispatcher import ACK_BUDGET_SECONDS, SORRY, WORKING, CommandDispatcher
from .listeners import actions, commands, events, shortcuts, views
from .listeners.deps import Deps
from .logs import request_id
from .oauth import build_oauth_settings
from .services import Services
from .settings import Mode
from .slack_client import make_web_client

__all__ = ["NOT_INSTALLED", "SORRY", "WORKING", "build_app", "slack_context"]
log = logging.getLogger(__name__)

NOT_INSTALLED = (
    "policybot is not installed in this workspace (or its installation was removed), so it "
    "cannot answer here. A workspace admin can install it from the bot's /slack/install page."
)


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
        public_url=services.settings.public_url or "",
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
            # The signature is checked once, by the HTTP edge (bot/edge.py), on the raw bytes
            # before anything is parsed: an unsigned body is refused 401 before it can be
            # refused 400 or 415 for its shape. Only the edge hands Bolt a POST (see
            # bot/server/routes.py make_wsgi_app); Socket Mode requests carry no signature.
            request_verification_enabled=False,
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

    @app.middleware
    def tag_request(body: dict[str, Any], next: Any) -> Any:  # noqa: A002 - Bolt's name
        request_id.set(str(body.get("event_id") or body.get("trigger_id") or uuid.uuid4().hex)[:40])
        return next()

    def contexts(payload: dict[str, Any], client: WebClient) -> Context:
        return slack_context(payload, services, client, directory)

    dispatcher = CommandDispatcher(services, ack_budget)
    services.pending_replies = lambda: dispatcher.pool.pending  # a shutdown waits for them
    deps = Deps(services=services, make_context=contexts, dispatcher=dispatcher, oauth=oauth)
    # Each kind's module registers its catch-all last: Bolt routes a request to the first
    # listener that matches, so those take only what nothing else answers.
    for listeners in (commands, actions, views, events, shortcuts):
        listeners.register(app, deps)

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
