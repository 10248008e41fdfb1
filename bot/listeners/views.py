"""Form submissions (view_submission). A submission becomes the command text a person would
type and runs through the same runner, so a form gets exactly the typed command's checks;
what is wrong comes back under its field (`response_action: errors`)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from ...data.errors import UserError
from ...handlers.add_brief import FormErrors, record_from_form, save_brief
from ...handlers.options import FieldError
from ...handlers.panel import edit_setup
from .. import add_brief, modals, note_form
from ..blocks import cut
from ..home import publish_home
from ..payload import metadata, obj
from ..payload import text as payload_text
from .deps import Deps

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    _setup_forms(app, deps)
    _search_form(app, deps)
    _add_form(app, deps)
    _note_form(app, deps)

    @app.view(re.compile(".*"))
    def unknown_view(ack: Ack, body: dict[str, Any]) -> None:
        # Registered last: Slack shows an error for a 404'd form; an acknowledged one
        # just closes.
        ack()
        log.warning(
            "no listener for this %s; acknowledged and ignored", payload_text(body.get("type"))
        )


def _asker(body: dict[str, Any], channel: str) -> dict[str, Any]:
    """The payload fields a Context is built from, for a form's submission."""
    user = body.get("user") or {}
    return {
        "team_id": (body.get("team") or {}).get("id") or (body.get("view") or {}).get("team_id"),
        "channel_id": channel,
        "user_id": user.get("id"),
        "user_name": user.get("name") or user.get("username"),
    }


def _setup_forms(app: App, deps: Deps) -> None:
    """The subscribe and remind forms. An edit (App Home's Edit) reads its fields with the
    same grammar but changes that very row in place (handlers/panel.py edit_setup)."""
    services = deps.services

    def submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        form = modals.form_from_state(body)
        payload = _asker(body, form.channel_id)
        ctx = deps.make_context(payload, client)
        try:
            text = modals.command_for(form)
        except FieldError as error:
            ack(
                response_action="errors",
                errors={error.field: cut(str(error), modals.MAX_ERROR)},
            )
            return
        if form.ref:
            # An edit changes that very row (its id, history and pause stay), never a
            # removal and a new one.
            def member_of(channel: str) -> bool:
                asked = {**payload, "channel_id": channel}
                return deps.make_context(asked, client).is_channel_member()

            reply = services.runner.apply(lambda session: edit_setup(session, ctx, form, member_of))
        else:
            reply = services.runner.run(text, ctx)
        if reply.is_error:
            ack(response_action="errors", errors=modals.errors_for(reply))
            return
        ack()
        client.chat_postEphemeral(
            channel=ctx.channel_id, user=ctx.user_id, **modals.message_for(reply)
        )
        publish_home(services, client, ctx.team_id, ctx.user_id)

    app.view(modals.CALLBACK_SUBSCRIBE)(submit)
    app.view(modals.CALLBACK_REMIND)(submit)


def _search_form(app: App, deps: Deps) -> None:
    @app.view(modals.CALLBACK_SEARCH)
    def search_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        if not modals.search_query(body):
            ack(response_action="errors", errors={"query": "Type what to look for."})
            return
        view = modals.searched_view(
            deps.services, deps.make_context(modals.search_asker(body), client), body
        )
        ack(response_action="update", view=view)


def _add_form(app: App, deps: Deps) -> None:
    """The add-brief form, checked field by field and stored by handlers/add_brief.py."""

    @app.view(add_brief.CALLBACK_ADD)
    def submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        form = add_brief.form_from_state(view)
        meta = metadata(view)
        ctx = deps.make_context(_asker(body, payload_text(meta.get("channel"))), client)
        try:
            record = record_from_form(form, ctx.today)
            reply = save_brief(deps.services.sessions, ctx, record)
        except FormErrors as error:
            ack(response_action="errors", errors=add_brief.errors_by_block(error.errors, form))
            return
        except UserError as error:  # not allowed, or not stored: under the title
            ack(response_action="errors", errors={"title": cut(str(error), modals.MAX_ERROR)})
            return
        ack()
        where = ctx.channel_id or ctx.user_id  # no channel: the app's DM with the person
        if ctx.channel_id:
            client.chat_postEphemeral(channel=where, user=ctx.user_id, **modals.message_for(reply))
        else:
            client.chat_postMessage(channel=where, **modals.message_for(reply))


def _note_form(app: App, deps: Deps) -> None:
    """The Add note form: runs `note b2 <text>` through the same runner as the typed
    command; a refusal comes back under the field."""

    @app.view(note_form.CALLBACK_NOTE)
    def note_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        meta = metadata(view)
        values = (view.get("state") or {}).get("values") or {}
        text = payload_text(obj(obj(values.get("note")).get("value")).get("value"))
        user = body.get("user") or {}
        ctx = deps.make_context(
            {
                "team_id": (body.get("team") or {}).get("id") or view.get("team_id"),
                "channel_id": payload_text(meta.get("channel")),
                "user_id": user.get("id"),
                "user_name": user.get("name"),
            },
            client,
        )
        if not text.strip():
            ack(response_action="errors", errors={"note": "Write the note first."})
            return
        reply = deps.services.runner.run(f"note {payload_text(meta.get('ref'))} {text}", ctx)
        if reply.is_error:
            ack(response_action="errors", errors={"note": reply.text[: note_form.MAX_ERROR]})
            return
        ack()
        if ctx.channel_id:
            client.chat_postEphemeral(channel=ctx.channel_id, user=ctx.user_id, text=reply.text)
