"""Render a Reply as a Slack message: Block Kit as plain dicts, built once.

The dicts are what slack_sdk's Block Kit models give from `to_dict()` (same keys, same
order), written directly: building the models and then validating and reflecting over them
cost more CPU than the rest of a search. This module keeps every field inside its limit
(the tests parse each message back with slack_sdk's models, which validate it), and the
message inside the limits that are not per field: 50 blocks, and about 12,000 characters
of blocks in all (Slack rejects much more with `msg_blocks_too_long`). Long text is cut at a word with an
ellipsis, and the brief gets a "Show full brief" button. Every piece of stored or typed text
is escaped (& < >), so none of it can become a mention or a link.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from ..data.search.highlight import emphasise
from ..data.views import BriefView, DeadlineView, countdown, due_summary
from ..handlers.reading import (
    brief_parts,
    headline_repeats_detail,
    snippet_source,
    title_repeats_goal,
)
from ..handlers.replies import Button, Line, Person, Reply, Visibility

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTIONS = 25
MAX_TOTAL_CHARS = 11000  # all texts, button labels and values; Slack's limit is about 12,000
MAX_ACTIONS_CHARS = 3000  # of that, what the buttons at the end may take
MAX_FALLBACK = 3000
MAX_LIST_TITLE = 300  # a title in a list of briefs; `show` has it in full
MAX_LINK = 1000  # longer links are shown as text, not as <url|label>
ACTION_RUN = "policy_run"  # prefix of every button's action_id; the value is command text
# A brief's overflow menu; an option's value is "<what>:<brief ref>" (bot/listeners/actions.py acts on it).
ACTION_MENU = "policy_menu"
MENU_SHARE, MENU_SIMILAR, MENU_REMIND = "share", "similar", "remind"
# Source-link buttons: Slack opens the URL itself and still sends an action, which is acked.
ACTION_LINK = "policy_link"
MAX_URL = 3000  # a URL button's limit
ELLIPSIS = "\u2026"
_OPEN_ENTITY = re.compile(r"&[a-z]{0,4}$")  # "&am" left at the end of a cut
_OPEN_MENTION = re.compile(r"<@[A-Z0-9]*$")  # a mention cut in half
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")  # a Slack user id, as mentions take it


Block = dict[str, Any]
Option = dict[str, Any]
DIVIDER: Block = {"type": "divider"}


# slack_sdk's to_dict() sorts keys; these do too, so a payload is the same to the byte.
def _plain(text: str) -> dict[str, str]:
    return {"text": text, "type": "plain_text"}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"text": text, "type": "mrkdwn"}


def section_block(text: str, accessory: Block | None = None) -> Block:
    if accessory is None:
        return {"text": _mrkdwn(text), "type": "section"}
    return {"accessory": accessory, "text": _mrkdwn(text), "type": "section"}


def context_block(text: str) -> Block:
    return {"elements": [_mrkdwn(text)], "type": "context"}


def header_block(text: str) -> Block:
    return {"text": _plain(text), "type": "header"}


def actions_block(elements: list[Block]) -> Block:
    return {"elements": elements, "type": "actions"}


def button_element(
    text: str,
    action_id: str,
    *,
    value: str | None = None,
    url: str | None = None,
    style: str | None = None,
) -> Block:
    element: Block = {"action_id": action_id}
    if style is not None:
        element["style"] = style
    element["text"] = _plain(text)
    element["type"] = "button"
    if url is not None:
        element["url"] = url
    if value is not None:
        element["value"] = value
    return element


def option(label: str, value: str) -> Option:
    return {"text": {"emoji": True, "text": label, "type": "plain_text"}, "value": value}


def overflow_element(action_id: str, options: list[Option]) -> Block:
    return {"action_id": action_id, "options": options, "type": "overflow"}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(person: Person) -> str:
    """A person as Slack draws them (`<@U100>`, their current name); an id that is not a
    Slack user id (the console's) is shown as escaped text."""
    if _USER_ID.fullmatch(person.user_id):
        return f"<@{person.user_id}>"
    return escape(person.plain())


def _line(line: str | Line) -> str:
    if isinstance(line, str):
        return escape(line)
    return "".join(mention(p) if isinstance(p, Person) else escape(p) for p in line.parts)


def cut(text: str, limit: int) -> str:
    """Shorten at a word boundary with an ellipsis (never over `limit` characters), and
    never in the middle of an escaped character (`&amp;`)."""
    if len(text) <= limit:
        return text
    shortened = text[: limit - 1]
    space = shortened.rfind(" ")
    if space > limit // 2:
        shortened = shortened[:space]
    shortened = _OPEN_ENTITY.sub("", shortened.rstrip(" ,;:"))  # "&amp;" loses ";" first
    shortened = _OPEN_MENTION.sub("", shortened)
    return shortened.rstrip(" ,;:") + ELLIPSIS


def _button_size(button: Button) -> int:
    return min(len(button.label), MAX_BUTTON_TEXT) + len(button.command)


class _Message:
    def __init__(self, reserve_chars: int = 0) -> None:
        self.blocks: list[Block] = []
        self.chars = 0
        self.budget = MAX_TOTAL_CHARS - reserve_chars  # what the actions block leaves
        self.full = False
        self._button_ids = 0

    def room(self, reserve: int = 2) -> bool:
        return not self.full and len(self.blocks) < MAX_BLOCKS - reserve

    def add(self, block: Block, size: int = 0, reserve: int = 2) -> bool:
        if not self.room(reserve) or self.chars + size > self.budget:
            self.full = True
            return False
        self.blocks.append(block)
        self.chars += size
        return True

    def section(self, text: str, accessory: Button | None = None, reserve: int = 2) -> bool:
        text = cut(text, MAX_SECTION)
        if not text.strip():
            text = ELLIPSIS  # Slack refuses an empty section
        element = self.button(accessory) if accessory else None
        size = len(text) + (_button_size(accessory) if accessory and element else 0)
        return self.add(section_block(text, element), size, reserve)

    def context(self, text: str, reserve: int = 2) -> bool:
        text = cut(text, MAX_SECTION)
        if not text.strip():
            return False
        return self.add(context_block(text), len(text), reserve)

    def button(self, button: Button) -> Block | None:
        if len(button.command) > MAX_BUTTON_VALUE or not button.command.strip():
            return None
        self._button_ids += 1
        return button_element(
            cut(button.label, MAX_BUTTON_TEXT) or "Go",
            f"{ACTION_RUN}:{'replace:' if button.replaces else ''}{self._button_ids}",
            value=button.command,
            style="primary" if button.primary else None,
        )

    def _next_id(self, prefix: str) -> str:
        self._button_ids += 1
        return f"{prefix}:{self._button_ids}"

    def brief_actions(
        self, brief: BriefView, *, show: bool, shareable: bool, reserve: int = 2
    ) -> bool:
        """Show, the source link and the overflow menu under one brief."""
        elements: list[Block] = []
        size = 0
        if show and (element := self.button(Button("Show", f"show {brief.ref}"))) is not None:
            elements.append(element)
            size += _button_size(Button("Show", f"show {brief.ref}"))
        if url := source_link(brief):
            elements.append(button_element("Source", self._next_id(ACTION_LINK), url=url))
            size += len(url) + 6
        options = brief_menu(brief, shareable)
        elements.append(overflow_element(self._next_id(ACTION_MENU), options))
        size += sum(len(o["text"]["text"]) + len(o["value"]) for o in options)
        return self.add(actions_block(elements), size, reserve)

    def actions(self, buttons: list[Button]) -> None:
        """The buttons that fit (in order) in one actions block at the end."""
        elements = []
        for button in _sendable(buttons):
            if self.chars + _button_size(button) > MAX_TOTAL_CHARS:
                break
            element = self.button(button)
            if element is not None:
                elements.append(element)
                self.chars += _button_size(button)
        if elements and len(self.blocks) < MAX_BLOCKS:
            self.blocks.append(actions_block(elements))


def _sendable(buttons: list[Button]) -> list[Button]:
    return [b for b in buttons if b.command.strip() and len(b.command) <= MAX_BUTTON_VALUE][
        :MAX_ACTIONS
    ]


def _actions_size(buttons: list[Button]) -> int:
    return min(MAX_ACTIONS_CHARS, sum(_button_size(b) for b in _sendable(buttons)))


def _brief_lines(brief: BriefView) -> str:
    title = f"*{escape(brief.ref)}* \u00b7 *{escape(cut(brief.title, MAX_LIST_TITLE))}*"
    lines = [title]
    if brief.title_original:
        lines.append(escape(cut(brief.title_original, MAX_LIST_TITLE)))
    meta = [brief.kind, brief.date_label]
    if brief.bodies:
        meta.append(brief.bodies_label)
    if brief.source_label:
        meta.append(brief.source_label)
    lines.append("_" + escape(cut(" \u00b7 ".join(meta), MAX_LIST_TITLE)) + "_")
    return "\n".join(lines)


def source_link(brief: BriefView) -> str | None:
    """The brief's first web link (official documents come first: data/views.py), for the
    Source button (None: no link a button can open)."""
    for link in brief.links:
        if len(link) <= MAX_URL and link.lower().startswith(("http://", "https://")):
            return link
    return None


def brief_menu(brief: BriefView, shareable: bool) -> list[Option]:
    """The overflow menu: share (when only the asker sees the message), subscribe to
    similar briefs, and remind of its goals (when it has dated ones)."""
    options = []
    if shareable:
        options.append(option("Share to channel", f"{MENU_SHARE}:{brief.ref}"))
    options.append(option("Subscribe to similar", f"{MENU_SIMILAR}:{brief.ref}"))
    if any(goal.due_on for goal in brief.goals):
        options.append(option("Remind me of its goals", f"{MENU_REMIND}:{brief.ref}"))
    return options


def _brief_item(
    message: _Message, brief: BriefView, reserve: int = 2, shareable: bool = False
) -> bool:
    text = _brief_lines(brief)
    if snippet := snippet_source(brief):
        # Search results: the matched words in bold (the title is bold already).
        text += "\n" + emphasise(escape(cut(snippet, 280)), brief.matched_terms)
    if due := due_summary(brief):
        text += "\n:dart: " + escape(due)
    for note in brief.team_notes[:2]:
        text += f"\n:memo: {mention(Person(note.author))}: " + escape(cut(note.text, 200))
    return message.section(text, reserve=reserve + 1) and message.brief_actions(
        brief, show=True, shareable=shareable, reserve=reserve
    )


def _full_brief(brief: BriefView) -> Button:
    return Button("Show full brief", f"show {brief.ref}")


def _long_text(message: _Message, heading: str, text: str, brief: BriefView) -> None:
    """Text in as many sections as it needs; cut with a button when the message is full."""
    body = escape(text)
    chunks = [
        c
        for c in textwrap.wrap(
            body, MAX_SECTION - 100, replace_whitespace=False, drop_whitespace=False
        )
        if c.strip()
    ]
    for index, chunk in enumerate(chunks or [""]):
        prefix = f"*{heading}*\n" if index == 0 else ""
        budget = message.budget - message.chars - 600
        if budget < 200 or not message.room(reserve=3):
            message.section(prefix + ELLIPSIS, accessory=_full_brief(brief))
            message.full = True
            return
        if len(chunk) + len(prefix) > budget:
            message.section(prefix + cut(chunk, budget), accessory=_full_brief(brief))
            message.full = True
            return
        message.section(prefix + chunk.strip("\n"), reserve=3)


def _detail(message: _Message, brief: BriefView, shareable: bool = False) -> None:
    title = " ".join(brief.title.split()) or "(untitled)"
    # A title too long for a header is shown once, whole, in bold (not cut, then repeated).
    if len(title) <= MAX_HEADER:
        message.add(header_block(title), len(title))
    else:
        message.section(f"*{escape(title)}*")
    meta = [brief.ref, brief.kind, brief.date_label]
    if brief.bodies:
        meta.append(brief.bodies_label)
    if brief.source_label:
        meta.append(f"source: {brief.source_label}")
    if brief.issue:
        meta.append(f"from {brief.issue}")
    message.context(escape(" \u00b7 ".join(meta)))
    if brief.title_original:
        message.section(escape(brief.title_original))
    message.brief_actions(brief, show=False, shareable=shareable, reserve=3)
    parts = brief_parts(brief)
    if parts.summary:
        _long_text(message, "At a glance", parts.summary, brief)
    if parts.goals and not message.full:
        lines = []
        for line in parts.goals:
            goal = line.goal
            when = escape(goal.deadline_label)
            if goal.due_on:
                when += f", {countdown(goal.days_left)}"
            status = "" if goal.status == "open" else f" [{escape(goal.status)}]"
            lines.append(f"\u2022 `{escape(goal.ref)}` *{when}*{status}: {escape(line.text)}")
        _long_text_raw(message, "Goals", "\n".join(lines), brief)
    if brief.comment and not message.full:
        label = f"{brief.comment_author} comment" if brief.comment_author else "Comment"
        _long_text(message, label, brief.comment, brief)
    # The first link (the official text) is the Source button; the others are coverage.
    others = [link for link in brief.links if link != source_link(brief)]
    if others and not message.full:
        _links(message, others)


def _links(message: _Message, links: list[str]) -> None:
    lines: list[str] = []
    size = len("*Coverage*\n")
    for link in links[:20]:
        label = escape(cut(link, 80))
        if len(link) <= MAX_LINK and link.lower().startswith(("http://", "https://")):
            # The URL part is escaped too (Slack reads &amp; back as &); a "|" would end it.
            line = f"\u2022 <{escape(link).replace('|', '%7C')}|{label}>"
        else:
            line = f"\u2022 {label}"
        if size + len(line) + 1 > MAX_SECTION - 100:
            lines.append(ELLIPSIS)
            break
        lines.append(line)
        size += len(line) + 1
    message.section("*Coverage*\n" + "\n".join(lines), reserve=1)


def _long_text_raw(message: _Message, heading: str, text: str, brief: BriefView) -> None:
    # Already escaped mrkdwn: split on lines so formatting stays whole.
    chunk = ""
    for line in text.split("\n"):
        if len(chunk) + len(line) + 1 > MAX_SECTION - 100 and chunk:
            _long_text_piece(message, heading, chunk, brief)
            heading, chunk = "", ""
            if message.full:
                return
        chunk += ("\n" if chunk else "") + cut(line, MAX_SECTION - 200)
    if chunk:
        _long_text_piece(message, heading, chunk, brief)


def _long_text_piece(message: _Message, heading: str, chunk: str, brief: BriefView) -> None:
    prefix = f"*{heading}*\n" if heading else ""
    if message.chars + len(chunk) > message.budget - 600 or not message.room(reserve=3):
        message.section(prefix + ELLIPSIS, accessory=_full_brief(brief))
        message.full = True
        return
    message.section(prefix + chunk, reserve=3)


def _deadline(
    message: _Message, item: DeadlineView, reserve: int = 2, shareable: bool = False
) -> bool:
    goal = item.goal
    note = f":new: _{escape(item.note)}_ \u00b7 " if item.note else ""
    title = "" if title_repeats_goal(item) else f" \u00b7 {escape(cut(item.brief.title, 200))}"
    text = (
        f"{note}*{escape(goal.deadline_label)}* \u00b7 {countdown(goal.days_left)}"
        f" \u00b7 `{escape(goal.ref)}`\n"
        f"{escape(cut(goal.text, 600))}\n"
        f"_{escape(item.brief.ref)}{title}"
        f" \u00b7 {escape(item.brief.date_label)}"
        + (f" \u00b7 {escape(cut(item.brief.bodies_label, 200))}" if item.brief.bodies else "")
        + "_"
    )
    return message.section(text, reserve=reserve + 1) and message.brief_actions(
        item.brief, show=True, shareable=shareable, reserve=reserve
    )


def _not_shown(message: _Message, count: int, noun: str) -> None:
    """Say what did not fit; items stop a block early and the budget keeps room for this."""
    text = f"{ELLIPSIS}and {count} more {noun} not shown here."
    if count > 0 and len(message.blocks) < MAX_BLOCKS - 1:
        message.blocks.append(context_block(text))
        message.chars += len(text)


def share_button(reply: Reply, command: str | None) -> Button | None:
    """Share: the same command again, posted to the channel, on an answer only the asker
    sees that shows briefs or deadlines."""
    if (
        command is None
        or reply.is_error
        or reply.visibility is not Visibility.EPHEMERAL
        or not (reply.briefs or reply.detail or reply.deadlines)
        or any(b.replaces for b in reply.buttons)  # a question being answered, not results
    ):
        return None
    return Button("Share", f"{command.strip()} share")


def render_blocks(reply: Reply, command: str | None = None) -> dict[str, Any]:
    """The message payload: text (notification fallback), blocks, response_type.

    `command` is the text that produced the reply: given it, an ephemeral answer gets Share."""
    share = share_button(reply, command)
    buttons = [*reply.buttons, share] if share else reply.buttons
    shareable = reply.visibility is Visibility.EPHEMERAL
    message = _Message(reserve_chars=_actions_size(buttons) + 200)
    text = reply.text.strip() or ELLIPSIS
    if reply.is_error or not headline_repeats_detail(text, reply.detail):
        headline = (":warning: " if reply.is_error else "") + escape(text)
        message.section(f"*{cut(headline, 2900)}*" if not reply.is_error else headline)
    if reply.notes:
        message.context(escape(" ".join(reply.notes)))
    for index, brief in enumerate(reply.briefs):
        if (index and not message.add(dict(DIVIDER), reserve=4)) or not _brief_item(
            message, brief, reserve=3, shareable=shareable
        ):
            _not_shown(message, len(reply.briefs) - index, "briefs")
            break
    if reply.detail is not None:
        _detail(message, reply.detail, shareable)
    for index, item in enumerate(reply.deadlines):
        if not _deadline(message, item, reserve=3, shareable=shareable):
            _not_shown(message, len(reply.deadlines) - index, "deadlines")
            break
    for section in reply.sections:
        body = "\n".join(_line(line) for line in section.lines)
        if not message.section(f"*{escape(section.title)}*\n{body}", reserve=3):
            break
    for entry in reply.help:
        examples = "  ".join(f"`{escape(e)}`" for e in entry.examples)
        message.section(f"*{escape(entry.usage)}*\n{escape(entry.summary)}\n{examples}")
    if reply.footer:
        message.context(escape(" \u00b7 ".join(reply.footer)))
    message.actions(buttons)
    return {
        "text": cut(escape(text), MAX_FALLBACK),
        "blocks": message.blocks,
        "response_type": str(reply.visibility),
    }


def brief_card(brief: BriefView) -> list[dict[str, Any]]:
    """One brief as a list item shows it (title, meta, snippet, Show, Source, menu): the
    card a link unfurls into."""
    message = _Message()
    _brief_item(message, brief, reserve=0)
    return message.blocks
