"""Modals, built and read: subscribe and remind forms (from `/policy subscribe` or `/policy
remind` with no arguments, App Home and the brief menu), and the "Search policies"
shortcut's search modal. Their listeners are in bot/listeners/.

A submission becomes the command text a person would type and runs through the same
CommandRunner, so a form gets exactly the typed command's checks; what is wrong comes back
under its field (`response_action: errors`), never as a stack trace. An edit (App Home's
Edit) reads its fields with the same grammar but changes that very row in place
(handlers/panel.py edit_setup): its id, history and pause stay.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from ..data.db import unit_of_work
from ..data.models import ScheduleKind
from ..handlers.cadence import describe_cadence
from ..handlers.context import Context
from ..handlers.options import FieldError
from ..handlers.panel import (
    CADENCES,
    DEFAULT_LEADS,
    MONTH_DAYS,
    WEEKDAYS,
    SetupForm,
    count_matches,
    remind_command,
    subscribe_command,
)
from ..handlers.replies import Reply
from .blocks import cut, escape, render_blocks
from .payload import metadata as form_metadata
from .payload import obj, text
from .services import Services

log = logging.getLogger(__name__)

CALLBACK_SUBSCRIBE = "policy_subscribe_form"
CALLBACK_REMIND = "policy_remind_form"
CALLBACK_SEARCH = "policy_search_form"
SHORTCUT_SEARCH = "policy_search"  # the global shortcut's callback_id (slack/manifest.yml)
ACTION_QUERY = "panel_query"  # the query field of a form: each keystroke pause recounts
ACTION_SEARCH = "panel_search"  # the search modal's query field: Enter searches
MAX_ERROR = 150
MAX_MODAL_BLOCKS = 100
_FIELD_BLOCKS = {"query", "cadence", "weekday", "month_day", "time", "tz", "leads", "channel"}


def _options(values: tuple[str, ...]) -> list[Option]:
    return [Option(label=v.capitalize(), value=v) for v in values]


def _initial(options: list[Option], value: str) -> Option | None:
    return next((o for o in options if o.value == value), None)


def _month_day_options() -> list[Option]:
    """1st ... 31st; a day a month lacks delivers on its last day (as typed `monthly on the
    31st`), which the label says."""
    options = []
    for value in MONTH_DAYS:
        label = describe_cadence(ScheduleKind.MONTHLY, None, int(value)).removeprefix("monthly ")
        options.append(Option(label=label, value=value))
    return options


def setup_view(form: SetupForm, count: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """The subscribe or remind form, filled from `form`; `count` is the live match line."""
    subscribing = form.kind == "subscribe"
    blocks: list[Block] = [
        InputBlock(
            block_id="channel",
            label="Channel",
            element=ConversationSelectElement(
                action_id="value",
                initial_conversation=form.channel_id or None,
                default_to_current_conversation=not form.channel_id or None,
            ),
        ),
        InputBlock(
            block_id="query",
            label="Briefs matching" if subscribing else "Goals of briefs matching",
            optional=True,
            dispatch_action=True,
            hint="Words and filters as in search (body:MIIT, kind:policy); empty: everything.",
            element=PlainTextInputElement(
                action_id=ACTION_QUERY,
                initial_value=form.query or None,
                max_length=500,
                dispatch_action_config={"trigger_actions_on": ["on_character_entered"]},
            ),
        ),
        ContextBlock(block_id="count", elements=[MarkdownTextObject(text=escape(count))]),
    ]
    if subscribing:
        cadences, days = _options(CADENCES), _options(WEEKDAYS)
        month_days = _month_day_options()
        blocks += [
            InputBlock(
                block_id="cadence",
                label="How often",
                element=StaticSelectElement(
                    action_id="value",
                    options=cadences,
                    initial_option=_initial(cadences, form.cadence),
                ),
            ),
            InputBlock(
                block_id="weekday",
                label="Day (weekly digests)",
                optional=True,
                element=StaticSelectElement(
                    action_id="value", options=days, initial_option=_initial(days, form.weekday)
                ),
            ),
            InputBlock(
                block_id="month_day",
                label="Day of the month (monthly digests)",
                optional=True,
                element=StaticSelectElement(
                    action_id="value",
                    options=month_days,
                    initial_option=_initial(month_days, form.month_day),
                ),
            ),
        ]
    else:
        blocks.append(
            InputBlock(
                block_id="leads",
                label="Days before each deadline",
                element=PlainTextInputElement(
                    action_id="value", initial_value=form.leads or DEFAULT_LEADS, max_length=60
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id="time",
            label="Time of day",
            element=TimePickerElement(action_id="value", initial_time=form.clock),
        ),
        InputBlock(
            block_id="tz",
            label="Time zone",
            element=PlainTextInputElement(
                action_id="value", initial_value=form.zone, max_length=64
            ),
        ),
    ]
    if form.ref:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Saving changes `{form.ref}` itself: it keeps its id, what it "
                        "has delivered and any pause."
                    )
                ]
            )
        )
    title = ("Edit " if form.ref else "New ") + ("subscription" if subscribing else "reminders")
    return View(
        type="modal",
        callback_id=CALLBACK_SUBSCRIBE if subscribing else CALLBACK_REMIND,
        title=title,
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({**metadata, "ref": form.ref, "kind": form.kind}),
        blocks=blocks,
    ).to_dict()


def search_view(query: str, reply: Reply | None) -> dict[str, Any]:
    """The search modal; under the field, the answer's briefs (their buttons left out:
    a modal has no response_url to answer them)."""
    blocks: list[dict[str, Any]] = [
        InputBlock(
            block_id="query",
            label="Search policy briefs",
            dispatch_action=True,
            element=PlainTextInputElement(
                action_id=ACTION_SEARCH, initial_value=query or None, max_length=500
            ),
            hint="Press Enter to search; e.g. storage, 储能, body:MIIT since:2024-11.",
        ).to_dict()
    ]
    if reply is not None:
        for block in render_blocks(reply)["blocks"]:
            if block["type"] == "actions" or len(blocks) >= MAX_MODAL_BLOCKS - 1:
                continue
            block.pop("accessory", None)
            blocks.append(block)
    return View(
        type="modal",
        callback_id=CALLBACK_SEARCH,
        title="Search policies",
        submit="Search",
        close="Close",
        blocks=blocks,
    ).to_dict()


def _values(body: dict[str, Any]) -> dict[str, str]:
    """A form's state as block id -> the value typed or picked."""
    found: dict[str, str] = {}
    for block_id, actions in (
        ((body.get("view") or {}).get("state") or {}).get("values", {}).items()
    ):
        for state in actions.values():
            found[block_id] = (
                text(state.get("value"))
                or text(obj(state.get("selected_option")).get("value"))
                or text(state.get("selected_time"))
                or text(state.get("selected_conversation"))
            )
    return found


def form_from_state(body: dict[str, Any]) -> SetupForm:
    meta = form_metadata(body.get("view"))
    values = _values(body)
    return SetupForm(
        ref=text(meta.get("ref")),
        kind="remind" if meta.get("kind") == "remind" else "subscribe",
        channel_id=values.get("channel", ""),
        query=values.get("query", ""),
        cadence=values.get("cadence") or "daily",
        weekday=values.get("weekday") or "monday",
        month_day=values.get("month_day") or "1",
        clock=values.get("time") or "09:00",
        zone=values.get("tz") or "UTC",
        leads=values.get("leads") or DEFAULT_LEADS,
    )


def command_for(form: SetupForm) -> str:
    if not form.channel_id:
        raise FieldError("channel", "Pick the channel that gets these deliveries.")
    if form.kind == "subscribe":
        return subscribe_command(
            form.query, form.cadence, form.weekday, form.clock, form.zone, form.month_day
        )
    return remind_command(form.query, form.leads, form.clock, form.zone)


def _field_for(reply: Reply) -> str:
    """Which field a refusal from the command belongs to."""
    text = reply.text.lower()
    if "member" in text or "channel" in text:
        return "channel"
    if "time zone" in text or " tz" in text:
        return "tz"
    return "query"


def open_setup(
    client: WebClient, services: Services, trigger_id: str, form: SetupForm, **meta: Any
) -> None:
    with unit_of_work(services.sessions, read_only=True) as session:
        count = count_matches(session, form.query)
    client.views_open(trigger_id=trigger_id, view=setup_view(form, count, meta))


def errors_for(reply: Reply) -> dict[str, str]:
    """A refusal from the command, under the field it belongs to."""
    field = reply.error_field if reply.error_field in _FIELD_BLOCKS else None
    return {field or _field_for(reply): cut(reply.text, MAX_ERROR)}


def search_query(body: dict[str, Any]) -> str:
    """What the search modal's field holds."""
    return _values(body).get("query", "").strip()


def search_asker(body: dict[str, Any]) -> dict[str, Any]:
    """Who searches in the modal (the payload fields a Context is built from)."""
    user = body.get("user") or {}
    return {"team_id": (body.get("team") or {}).get("id"), "user_id": user.get("id")}


def searched_view(services: Services, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The search modal with the answer to what its field holds."""
    query = search_query(body)
    reply = services.runner.run(f"search {query}", ctx) if query else None
    return search_view(query, reply)


def message_for(reply: Reply) -> dict[str, Any]:
    payload = render_blocks(reply)
    payload.pop("response_type", None)
    return payload
