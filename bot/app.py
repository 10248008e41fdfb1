"""The Bolt app: thin listeners that ack, run one handler, render, respond.

Importing this module registers nothing; `build_app` wires a new App each time.
"""

from __future__ import annotations

import json
import logging
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import ACTION_RUN, render_blocks
from bot.services import Services
from bot.slack_client import make_web_client
from handlers.context import Context
from handlers.replies import Reply

log = logging.getLogger(__name__)

# Slack shows `operation_timeout` after 3 s; answer in the ack when the reply is ready well
# before that, otherwise ack at once and send the reply to the response_url when done.
ACK_BUDGET_SECONDS = 2.0
SORRY = "Sorry, something went wrong on my side. Please try again; if it keeps happening, tell your admin."
WORKING = "Working on it\u2026"


class UserTimezones:
    """Users' IANA zones from users.info, cached; looked up only when a command needs one."""

    def __init__(self, client: WebClient, ttl_seconds: float = 3600) -> None:
        self.client = client
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, str | None]] = {}

    def __call__(self, user_id: str) -> str | None:
        cached = self._cache.get(user_id)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            zone = self.client.users_info(user=user_id).get("user", {}).get("tz")
        except SlackApiError as error:
            log.warning("users.info failed for a user: %s", error.response.get("error"))
            return None
        self._cache[user_id] = (time.monotonic(), zone)
        return str(zone) if zone else None


def slack_context(
    payload: dict[str, Any], services: Services, timezones: UserTimezones | None = None
) -> Context:
    team = payload.get("team_id") or (payload.get("team") or {}).get("id") or ""
    channel = payload.get("channel_id") or (payload.get("channel") or {}).get("id") or ""
    user = payload.get("user_id") or (payload.get("user") or {}).get("id") or ""
    lookup = (lambda: timezones(user)) if timezones and user else (lambda: None)
    return Context(
        now=services.clock(),
        team_id=team,
        channel_id=channel,
        user_id=user,
        tz=ZoneInfo("UTC"),
        user_timezone=lookup,
        user_label=f"<@{user}>" if user else "",
    )


class CommandDispatcher:
    """Runs commands off the request thread so the ack never waits past its budget."""

    def __init__(self, services: Services, budget: float = ACK_BUDGET_SECONDS) -> None:
        self.services = services
        self.budget = budget
        self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="policy-command")

    def answer(self, text: str, ctx: Context, ack: Ack, respond: Respond) -> None:
        future = self.executor.submit(self.services.runner.run, text, ctx)
        try:
            reply = future.result(timeout=self.budget)
        except FutureTimeout:
            ack(text=WORKING, response_type="ephemeral")
            future.add_done_callback(lambda done: self._respond_later(done, respond))
            return
        ack(**render_blocks(reply))

    @staticmethod
    def _respond_later(done: Future[Reply], respond: Respond) -> None:
        try:
            payload = render_blocks(done.result())
        except Exception:
            log.exception("a slow command failed")
            payload = {"text": SORRY, "response_type": "ephemeral"}
        respond(**payload, replace_original=True)

    def run_now(self, text: str, ctx: Context) -> dict[str, Any]:
        return render_blocks(self.services.runner.run(text, ctx))


def build_app(
    services: Services,
    *,
    client: WebClient | None = None,
    token_verification: bool = True,
    ack_budget: float = ACK_BUDGET_SECONDS,
) -> App:
    settings = services.settings
    client = client or make_web_client(settings, settings.bot_token)
    timezones = UserTimezones(client)
    app = App(
        client=client,
        signing_secret=settings.signing_secret or "",
        token_verification_enabled=token_verification,
        raise_error_for_unhandled_request=False,
    )
    dispatcher = CommandDispatcher(services, ack_budget)

    @app.command(re.compile(r"^/policy"))
    def policy_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ctx = slack_context(command, services, timezones)
        dispatcher.answer(command.get("text") or "", ctx, ack, respond)

    @app.action(re.compile(f"^{ACTION_RUN}:"))
    def policy_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        ctx = slack_context({**body, "channel": body.get("channel") or {}}, services, timezones)
        payload = dispatcher.run_now(action.get("value") or "help", ctx)
        replaces = ":replace:" in (action.get("action_id") or "")
        if replaces:
            payload.pop("response_type", None)  # an update keeps the message where it is
        respond(**payload, replace_original=replaces)

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
