"""Block actions: buttons, menus and fields that dispatch as the person types (and the add
form's bodies field, whose options Slack asks for as a block suggestion). Registered in
order; the catch-all goes last (Bolt routes to the first listener that matches)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ...data.db import unit_of_work
from ...data.errors import UserError
from ...data.novelty import Novelty
from ...handlers.add_brief import body_choices
from ...handlers.commands import parse_command
from ...handlers.intake import IntakeDecision, decide_intake
from ...handlers.panel import (
    SetupForm,
    brief_by_ref,
    count_matches,
    goals_query,
    removal_command,
    setup_form,
    similar_query,
    toggle_pause,
)
from ...handlers.replies import Reply
from .. import add_brief, home, intake, modals
from ..blocks import (
    ACTION_LINK,
    ACTION_MENU,
    ACTION_RUN,
    MENU_REMIND,
    MENU_SHARE,
    escape,
    render_blocks,
)
from ..note_form import open_note_form
from ..payload import metadata as form_metadata
from ..payload import text as text_of
from ..sources import ACTION_SOURCE
from .deps import Deps

log = logging.getLogger(__name__)

GONE = "That brief is no longer stored."


def register(app: App, deps: Deps) -> None:
    _command_buttons(app, deps)
    _home(app, deps)
    _forms(app, deps)
    _brief_menus(app, deps)
    _intake(app, deps)
    _sources(app, deps)

    @app.action(re.compile(".*"))
    def unknown_action(ack: Ack, body: dict[str, Any]) -> None:
        # Registered last: Slack shows an error for a 404'd button; an acknowledged one
        # just does nothing.
        ack()
        log.warning("no listener for this %s; acknowledged and ignored", text_of(body.get("type")))


def _command_buttons(app: App, deps: Deps) -> None:
    # First: a reply's buttons are most of the actions.
    @app.action(re.compile(f"^{ACTION_RUN}:"))
    def policy_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        ctx = deps.make_context(body, client)
        value = text_of(action.get("value")) or "help"
        if open_note_form(client, str(body.get("trigger_id") or ""), value, ctx.channel_id):
            return  # Add note: a form, not a list of notes
        replaces = ":replace:" in text_of(action.get("action_id"))
        deps.dispatcher.answer_later(parse_command(value), ctx, respond, client, replaces)


def _home(app: App, deps: Deps) -> None:
    """App Home's buttons open forms, pause, edit and delete the user's setups."""
    services = deps.services

    @app.action(re.compile(f"^{home.ACTION_NEW}:"))
    def new_setup(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        ctx = deps.make_context(body, client)
        kind = "remind" if action.get("value") == "remind" else "subscribe"
        form = SetupForm("", kind, "", "", zone=ctx.zone.key)
        modals.open_setup(client, services, str(body.get("trigger_id")), form, home=True)

    @app.action(home.ACTION_SEARCH)
    def search(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=modals.search_view("", None))

    @app.action(re.compile(f"^{home.ACTION_REMIND}:"))
    def remind_goals(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        ctx = deps.make_context(body, client)
        with unit_of_work(services.sessions, read_only=True) as session:
            brief = brief_by_ref(session, str(action.get("value") or ""), ctx.today)
        query = goals_query(brief) if brief is not None else ""
        form = SetupForm("", "remind", "", query, zone=ctx.zone.key)
        modals.open_setup(client, services, str(body.get("trigger_id")), form, home=True)

    @app.action(re.compile(f"^{home.ACTION_SETUP}:"))
    def change_setup(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        what, _, ref = str((action.get("selected_option") or {}).get("value") or "").partition(":")
        ctx = deps.make_context(body, client)
        try:
            with unit_of_work(services.sessions) as session:
                form = setup_form(session, ctx, ref)
                # The setup's own channel: membership checks and replies are about it.
                ctx = deps.make_context({**body, "channel": {"id": form.channel_id}}, client)
                if what == "pause":
                    toggle_pause(session, ctx, ref, services.clock())
        except UserError as error:
            home.tell(client, ctx, str(error))
            return
        if what == "edit":
            modals.open_setup(client, services, str(body.get("trigger_id")), form, home=True)
            return
        if what == "delete":
            reply = services.runner.run(removal_command(ref), ctx)
            if reply.is_error:
                home.tell(client, ctx, reply.text)
        home.publish_home(services, client, ctx.team_id, ctx.user_id)


def _forms(app: App, deps: Deps) -> None:
    """Fields of an open form that dispatch as the person types."""
    services = deps.services

    @app.action(modals.ACTION_QUERY)
    def recount(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        form = modals.form_from_state(body)
        view = body.get("view") or {}
        with unit_of_work(services.sessions, read_only=True) as session:
            count = count_matches(session, form.query)
        meta = form_metadata(view)
        client.views_update(
            view_id=view.get("id"), hash=view.get("hash"), view=modals.setup_view(form, count, meta)
        )

    @app.action(modals.ACTION_SEARCH)
    def search_as_typed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body.get("view") or {}
        client.views_update(
            view_id=view.get("id"),
            hash=view.get("hash"),
            view=modals.searched_view(
                deps.services, deps.make_context(modals.search_asker(body), client), body
            ),
        )

    @app.options(add_brief.ACTION_BODIES)
    def body_options(ack: Ack, payload: dict[str, Any]) -> None:
        with unit_of_work(services.sessions, read_only=True) as session:
            choices = body_choices(session, str(payload.get("value") or ""))
        ack(options=add_brief.body_options(choices))

    @app.action(add_brief.ACTION_GOALS)
    def goals_typed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body.get("view") or {}
        form = add_brief.form_from_state(view)
        meta = form_metadata(view)
        form.warnings = list(meta.get("warnings") or [])
        ctx = deps.make_context(body, client)
        try:
            client.views_update(
                view_id=view.get("id"),
                hash=view.get("hash"),
                view=add_brief.add_view(form, add_brief.verdict(services, form, ctx), meta),
            )
        except SlackApiError as error:
            if error.response.get("error") != "hash_conflict":
                raise
            # The person kept typing: the update for the newer text follows.


def _brief_menus(app: App, deps: Deps) -> None:
    """A brief's overflow menu (Share to channel, Subscribe to similar, Remind me of its
    goals) and its Source button, on every message that lists briefs or deadlines."""
    services = deps.services

    @app.action(re.compile(f"^{ACTION_LINK}:"))
    def source_opened(ack: Ack) -> None:
        ack()  # Slack opened the URL; nothing to do but say we heard it

    @app.action(re.compile(f"^{ACTION_MENU}:"))
    def menu_chosen(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        what, _, ref = str((action.get("selected_option") or {}).get("value") or "").partition(":")
        ctx = deps.make_context(body, client)
        if what == MENU_SHARE:
            # The brief in full, posted to the channel (as `show b2 share` would).
            payload = render_blocks(services.runner.run(f"show {ref} share", ctx))
            respond(**payload, replace_original=False)
            return
        with unit_of_work(services.sessions, read_only=True) as session:
            brief = brief_by_ref(session, ref, ctx.today)
        if brief is None:
            respond(text=GONE, response_type="ephemeral", replace_original=False)
            return
        query = goals_query(brief) if what == MENU_REMIND else similar_query(brief)
        kind = "remind" if what == MENU_REMIND else "subscribe"
        form = SetupForm("", kind, ctx.channel_id, query, zone=ctx.zone.key)
        modals.open_setup(client, services, str(body.get("trigger_id")), form)


def _intake(app: App, deps: Deps) -> None:
    """An uploaded tracker's Ingest / Cancel buttons (bot/intake.py posts them)."""

    def decide(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        ingest: bool,
        novelty: Novelty = Novelty.AUTO,
        replace_facts: bool = False,
    ) -> None:
        ack()
        ctx = deps.make_context(body, client)
        decision: IntakeDecision | None = None
        try:
            decision = decide_intake(
                deps.services.sessions,
                ctx,
                str(action.get("value") or ""),
                ingest,
                novelty=novelty,
                replace_facts=replace_facts,
            )
            reply = decision.reply
        except UserError as error:  # a refusal (not an admin): only the clicker sees it
            reply = Reply(text=str(error), is_error=True)
        if decision is None or not decision.decided:
            respond(text=escape(reply.text), response_type="ephemeral", replace_original=False)
            return
        # The decision replaces the preview for everyone in the conversation.
        message = render_blocks(reply)
        message.pop("response_type", None)
        respond(replace_original=True, **message)

    @app.action(intake.ACTION_INGEST)
    def ingest_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        decide(ack, body, action, respond, client, ingest=True)

    @app.action(intake.ACTION_INGEST_NEW)
    def ingest_new_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        decide(ack, body, action, respond, client, ingest=True, novelty=Novelty.NEW)

    @app.action(intake.ACTION_INGEST_ARCHIVE)
    def ingest_archive_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        decide(ack, body, action, respond, client, ingest=True, novelty=Novelty.ARCHIVE)

    @app.action(intake.ACTION_REPLACE)
    def replace_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        decide(ack, body, action, respond, client, ingest=True, replace_facts=True)

    @app.action(intake.ACTION_CANCEL)
    def cancel_clicked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        decide(ack, body, action, respond, client, ingest=False)


def _sources(app: App, deps: Deps) -> None:
    """App Home's Pause/Resume/Remove of a watched source: the same commands as typed."""
    services = deps.services

    @app.action(re.compile(f"^{ACTION_SOURCE}:(pause|resume|remove)$"))
    def change_source(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        what = text_of(action.get("action_id")).partition(":")[2]
        ref = text_of(action.get("value"))[:20]
        ctx = deps.make_context(body, client)
        reply = services.runner.run(f"source {what} {ref}", ctx)
        if reply.is_error:  # nothing changed: the tab stays as it is
            client.chat_postMessage(channel=ctx.user_id, text=escape(reply.text))
        else:
            home.publish_home(services, client, ctx.team_id, ctx.user_id)
