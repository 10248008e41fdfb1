"""The add-brief form: `/policy add` opens it (pre-filled from any text after `add`), the
message shortcut "Add to policybot" opens it pre-filled from the message. Issuing bodies
complete from the bodies table and their aliases (an external select, `app.options`);
typing goals updates the form with the deadline read from each, editable. The submission
is checked field by field (`response_action: errors`) and stored by handlers/add_brief.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    ExternalDataMultiSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from ..data.db import unit_of_work
from ..data.errors import UserError
from ..handlers.add_brief import (
    CORPUS_ACTION,
    MAX_GOALS,
    MAX_TEXT,
    BriefForm,
    FormErrors,
    deadline_text,
    form_from_text,
    goal_lines,
    published,
    read_deadline,
    record_from_form,
    what_saving_does,
)
from ..handlers.context import Context
from ..handlers.permissions import PermissionDenied, require_admin
from .blocks import cut, escape
from .modals import MAX_ERROR
from .services import Services

log = logging.getLogger(__name__)

CALLBACK_ADD = "policy_add_form"
SHORTCUT_ADD_MESSAGE = "policy_add_message"  # the message shortcut (slack/manifest.yml)
ACTION_BODIES = "add_bodies"  # the bodies field: options come from app.options
ACTION_GOALS = "add_goals"  # the goals field: each pause re-reads the deadlines
DEADLINE_BLOCK = "deadline"
_SLACK_LINK = re.compile(r"<((?:https?://|mailto:)[^<>|\s]+)(?:\|([^<>]*))?>", re.I)
_MRKDWN_STYLE = re.compile(r"(?<![\w/*_~])([*_~])(?=\S)([^*_~\n]+?)(?<=\S)\1(?![\w*_~])")
_SLACK_REFERENCE = re.compile(r"<([@#!])([^<>|]+)(?:\|([^<>]*))?>")


def plain_message(mrkdwn: str) -> str:
    """A Slack message's text as a person reads it: `<https://x|label>` is "label
    (https://x)" (a bare `<https://x>` the URL), `<@U1|ann>` "@ann", `<#C1|general>`
    "#general", `<!here>` "@here", and &amp; &lt; &gt; the characters they stand for."""

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), (match.group(2) or "").strip()
        bare = re.sub(r"^(?:https?://|mailto:)", "", url).rstrip("/")
        if url.startswith("mailto:"):
            return label or bare
        domain_like = " " not in label and "." in label
        if not label or (domain_like and label.lower().rstrip("/") in url.lower()):
            return url  # the label is the address, or its domain
        return f"{label} ({url})"

    def reference(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "!" and target.startswith("date^"):
            return label or ""  # <!date^1700000000^{date}|Nov 14, 2023>
        name = (label or target.split("^")[0]).lstrip("@#")
        return ("#" if sigil == "#" else "@") + name

    text = _SLACK_LINK.sub(link, mrkdwn)
    text = _SLACK_REFERENCE.sub(reference, text)
    text = _MRKDWN_STYLE.sub(r"\2", text)  # *bold*, _italic_, ~struck~: their words
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _deadline_block_id(index: int, goal: str) -> str:
    """Named after the goal's text: an edited goal gets a new block (and its new reading),
    an unchanged one keeps the block, and so what the person typed in it."""
    digest = hashlib.sha1(goal.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{DEADLINE_BLOCK}:{index}:{digest}"


def _text_input(
    block_id: str,
    label: str,
    value: str,
    *,
    optional: bool = True,
    multiline: bool = False,
    limit: int = MAX_TEXT,
    **extra: Any,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        element=PlainTextInputElement(
            action_id="value",
            initial_value=cut(value, limit) or None,
            multiline=multiline,
            max_length=limit,
        ),
        **extra,
    )


def add_view(form: BriefForm, verdict: str, metadata: dict[str, Any]) -> dict[str, Any]:
    blocks: list[Block] = []
    if form.warnings:
        guessed = "; ".join(form.warnings)
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=cut(escape(f"Read from the text, please check: {guessed}"), 2000)
                    )
                ]
            )
        )
    bodies = [Option(label=b[:75], value=b[:150]) for b in form.bodies[:20]]
    blocks += [
        _text_input("title", "Title (English)", form.title, optional=False, limit=300),
        _text_input("title_original", "Title (Chinese)", form.title_original, limit=300),
        InputBlock(
            block_id="bodies",
            label="Issuing bodies",
            optional=True,
            hint="Type an abbreviation, a name or an alias (工信部).",
            element=ExternalDataMultiSelectElement(
                action_id=ACTION_BODIES,
                min_query_length=1,
                initial_options=bodies or None,
                placeholder="MIIT, NDRC, ...",
            ),
        ),
        InputBlock(
            block_id="date",
            label="Date issued",
            optional=True,
            element=DatePickerElement(action_id="value", initial_date=form.published_on or None),
        ),
        _text_input("summary", "Summary", form.summary, multiline=True),
        InputBlock(
            block_id="goals",
            label="Goals, one per line",
            optional=True,
            dispatch_action=True,
            hint="policybot reads each goal's deadline as you type (By 2027, 到2030年, ...).",
            element=PlainTextInputElement(
                action_id=ACTION_GOALS,
                initial_value=cut(form.goals, MAX_TEXT) or None,
                multiline=True,
                max_length=MAX_TEXT,
                dispatch_action_config={"trigger_actions_on": ["on_character_entered"]},
            ),
        ),
    ]
    on = published(form)
    for index, goal in enumerate(goal_lines(form.goals)[:MAX_GOALS]):
        written = form.deadlines[index] if index < len(form.deadlines) else None
        shown = deadline_text(read_deadline(goal, on)) if written is None else written
        blocks.append(
            InputBlock(
                block_id=_deadline_block_id(index, goal),
                label=f"Deadline of goal {index + 1}",
                optional=True,
                hint=cut(goal, 150),
                element=PlainTextInputElement(
                    action_id="value",
                    initial_value=shown or None,
                    placeholder="none read: 2027, 2026-06, 2026 to 2030",
                    max_length=60,
                ),
            )
        )
    blocks += [
        _text_input("link", "Link", form.link, limit=2000),
        _text_input("note", "Note (your comment)", form.note, multiline=True),
    ]
    if verdict:
        blocks.append(
            ContextBlock(block_id="verdict", elements=[MarkdownTextObject(text=escape(verdict))])
        )
    return View(
        type="modal",
        callback_id=CALLBACK_ADD,
        title="Add a brief",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=blocks,
    ).to_dict()


def form_from_state(view: dict[str, Any]) -> BriefForm:
    """The form as the person left it. A deadline block named after another goal text is
    stale (the goal was edited): that goal's deadline is read anew."""
    values: dict[str, dict[str, Any]] = (view.get("state") or {}).get("values") or {}

    def text(block: str) -> str:
        state: dict[str, Any] = next(iter((values.get(block) or {}).values()), {})
        return str(state.get("value") or state.get("selected_date") or "")

    bodies_state: dict[str, Any] = next(iter((values.get("bodies") or {}).values()), {})
    form = BriefForm(
        title=text("title"),
        title_original=text("title_original"),
        bodies=[str(o.get("value")) for o in bodies_state.get("selected_options") or []],
        published_on=text("date"),
        summary=text("summary"),
        goals=text("goals"),
        link=text("link"),
        note=text("note"),
    )
    goals = goal_lines(form.goals)
    form.deadlines = [
        text(_deadline_block_id(i, goal)) if _deadline_block_id(i, goal) in values else None
        for i, goal in enumerate(goals)
    ]
    return form


def errors_by_block(errors: dict[str, str], form: BriefForm) -> dict[str, str]:
    goals = goal_lines(form.goals)
    out = {}
    for key, message in errors.items():
        if key.startswith(f"{DEADLINE_BLOCK}:"):
            index = int(key.split(":")[1])
            key = _deadline_block_id(index, goals[index])
        out[key] = cut(message, MAX_ERROR)
    return out


def verdict(services: Services, form: BriefForm, ctx: Context) -> str:
    """What saving the form as it stands would do ("" while it is not a brief yet)."""
    try:
        record = record_from_form(form, ctx.today)
    except FormErrors:
        return ""
    with unit_of_work(services.sessions, read_only=True) as session:
        return what_saving_does(session, record)


def body_options(choices: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The bodies field's options (an external select): abbreviation, and its label."""
    return [
        {"text": {"type": "plain_text", "text": label}, "value": abbreviation}
        for abbreviation, label in choices
    ]


def open_add_form(
    client: WebClient, services: Services, ctx: Context, trigger_id: str, text: str, channel: str
) -> str:
    """Open the form filled from `text`; else the sentence that says why not."""
    try:
        require_admin(ctx, CORPUS_ACTION)
        form = form_from_text(plain_message(text))  # Slack's markup, as a person reads it
    except (PermissionDenied, UserError) as error:
        return str(error)
    meta = {"channel": channel, "warnings": form.warnings[:10]}
    verdict = ""
    if form.title:
        try:
            with unit_of_work(services.sessions, read_only=True) as session:
                verdict = what_saving_does(session, record_from_form(form, ctx.today))
        except FormErrors:
            verdict = ""
    client.views_open(trigger_id=trigger_id, view=add_view(form, verdict, meta))
    return ""
