"""Slash commands. The text is read once (parse_command); its COMMANDS row says whether it
opens a form here (`form`) or runs, and the parsed command is handed to the dispatcher."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from ...handlers.commands import parse_command
from ...handlers.context import Context
from ...handlers.panel import SetupForm
from ..add_brief import open_add_form
from ..modals import open_setup
from .deps import Deps

log = logging.getLogger(__name__)

# Opens a form: (deps, client, who asks, trigger_id, the command's argument) -> "" once the
# form is open, else the sentence that says why not.
FormOpener = Callable[[Deps, WebClient, Context, str, str], str]


def _setup_form(kind: str) -> FormOpener:
    def opener(deps: Deps, client: WebClient, ctx: Context, trigger_id: str, _: str) -> str:
        form = SetupForm("", kind, ctx.channel_id, "", zone=ctx.zone.key)
        open_setup(client, deps.services, trigger_id, form)
        return ""

    return opener


def _add_form(deps: Deps, client: WebClient, ctx: Context, trigger_id: str, text: str) -> str:
    return open_add_form(client, deps.services, ctx, trigger_id, text, ctx.channel_id)


# The forms a COMMANDS row may name (CommandSpec.form); tests/bot/test_listeners.py checks
# that every named form is here.
FORMS: dict[str, FormOpener] = {
    "subscribe": _setup_form("subscribe"),
    "remind": _setup_form("remind"),
    "add": _add_form,
}


def not_our_command(name: str, ours: tuple[str, ...]) -> str:
    listed = ", ".join(f"`{n}`" for n in ours)
    return f"`{name}` is not a policybot command here; use {listed} (try `{ours[0]} help`)."


def register(app: App, deps: Deps) -> None:
    names = deps.services.settings.commands
    either = "|".join(map(re.escape, names))

    # Exactly the configured names: a pattern such as ^/policy would also take /policyx.
    @app.command(re.compile(f"^(?:{either})$"))
    def policy_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ctx = deps.make_context(command, client)
        parsed = parse_command(command.get("text") or "")
        trigger_id = str(command.get("trigger_id") or "")
        if parsed.form and trigger_id:  # e.g. `subscribe` alone, `add [pasted text]`
            refused = FORMS[parsed.form](deps, client, ctx, trigger_id, parsed.argument)
            if refused:
                ack(text=refused, response_type="ephemeral")
            else:
                ack()
            return
        deps.dispatcher.answer(parsed, ctx, ack, respond, client)

    # Every other name. Not ".*": Bolt tries the next matching listener when one does not
    # ack within 3 s, and this one must never answer one of ours.
    @app.command(re.compile(f"^(?!(?:{either})$)"))
    def other_command(ack: Ack, command: dict[str, Any]) -> None:
        # A command the app's manifest routes here but these settings do not answer.
        log.warning("command %s is not one of %s", command.get("command"), names)
        ack(text=not_our_command(str(command.get("command")), names), response_type="ephemeral")
