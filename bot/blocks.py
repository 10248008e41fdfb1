"""Render a Reply as a Slack message with slack_sdk's Block Kit models.

slack_sdk validates each field's limit on `to_dict()`; this module keeps the message inside
the limits that are not per field: 50 blocks, and about 12,000 characters of blocks in all
(Slack rejects much more with `msg_blocks_too_long`). Long text is cut at a word with an
ellipsis, and the brief gets a "Show full brief" button.
"""

from __future__ import annotations

import textwrap
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from handlers.replies import BriefView, Button, DeadlineView, Reply, countdown, due_summary

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_TOTAL_CHARS = 11000
ACTION_RUN = "policy_run"  # prefix of every button's action_id; the value is command text


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """Shorten at a word boundary with an ellipsis (never over `limit` characters)."""
    if len(text) <= limit:
        return text
    shortened = text[: limit - 1]
    space = shortened.rfind(" ")
    if space > limit // 2:
        shortened = shortened[:space]
    return shortened.rstrip(" ,;:") + "\u2026"


class _Message:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.chars = 0
        self.full = False
        self._button_ids = 0

    def room(self, reserve: int = 2) -> bool:
        return not self.full and len(self.blocks) < MAX_BLOCKS - reserve

    def add(self, block: Block, size: int = 0, reserve: int = 2) -> bool:
        if not self.room(reserve) or self.chars + size > MAX_TOTAL_CHARS:
            self.full = True
            return False
        self.blocks.append(block)
        self.chars += size
        return True

    def section(self, text: str, accessory: Button | None = None, reserve: int = 2) -> bool:
        text = cut(text, MAX_SECTION)
        element = self.button(accessory) if accessory else None
        return self.add(
            SectionBlock(text=MarkdownTextObject(text=text), accessory=element), len(text), reserve
        )

    def context(self, text: str) -> bool:
        text = cut(text, MAX_SECTION)
        return self.add(ContextBlock(elements=[MarkdownTextObject(text=text)]), len(text))

    def button(self, button: Button) -> ButtonElement | None:
        if len(button.command) > MAX_BUTTON_VALUE:
            return None
        self._button_ids += 1
        return ButtonElement(
            text=PlainTextObject(text=cut(button.label, MAX_BUTTON_TEXT)),
            action_id=f"{ACTION_RUN}:{self._button_ids}",
            value=button.command,
            style="primary" if button.primary else None,
        )

    def actions(self, buttons: list[Button]) -> None:
        elements = [e for e in (self.button(b) for b in buttons[:25]) if e is not None]
        if elements:
            self.blocks.append(ActionsBlock(elements=elements))


def _brief_lines(brief: BriefView) -> str:
    title = f"*{escape(brief.ref)}* \u00b7 *{escape(brief.title)}*"
    lines = [title]
    if brief.title_original:
        lines.append(escape(brief.title_original))
    meta = [brief.kind, brief.date_label]
    if brief.bodies:
        meta.append(brief.bodies_label)
    if brief.source_label:
        meta.append(brief.source_label)
    lines.append("_" + escape(" \u00b7 ".join(meta)) + "_")
    return "\n".join(lines)


def _brief_item(message: _Message, brief: BriefView) -> None:
    summary = brief.summary.split("\n\n")[0]
    snippet = escape(cut(summary, 280))
    text = _brief_lines(brief) + "\n" + snippet
    if due := due_summary(brief):
        text += "\n:dart: " + escape(due)
    message.section(text, accessory=Button("Show", f"show {brief.ref}"))


def _long_text(message: _Message, heading: str, text: str, brief: BriefView) -> None:
    """Text in as many sections as it needs; cut with a button when the message is full."""
    body = escape(text)
    chunks = textwrap.wrap(body, MAX_SECTION - 100, replace_whitespace=False, drop_whitespace=False)
    for index, chunk in enumerate(chunks or [""]):
        prefix = f"*{heading}*\n" if index == 0 else ""
        budget = MAX_TOTAL_CHARS - message.chars - 600
        if budget < 200 or not message.room(reserve=3):
            message.section(prefix + "\u2026", accessory=Button("Show full brief", f"show {brief.ref}"))
            message.full = True
            return
        if len(chunk) + len(prefix) > budget:
            message.section(
                prefix + cut(chunk, budget), accessory=Button("Show full brief", f"show {brief.ref}")
            )
            message.full = True
            return
        message.section(prefix + chunk, reserve=3)


def _detail(message: _Message, brief: BriefView) -> None:
    message.add(HeaderBlock(text=PlainTextObject(text=cut(brief.title, MAX_HEADER))), len(brief.title))
    meta = [brief.ref, brief.kind, brief.date_label]
    if brief.bodies:
        meta.append(brief.bodies_label)
    if brief.source_label:
        meta.append(f"source: {brief.source_label}")
    message.context(escape(" \u00b7 ".join(meta)))
    if brief.title_original or len(brief.title) > MAX_HEADER:
        full_titles = [escape(brief.title)] if len(brief.title) > MAX_HEADER else []
        if brief.title_original:
            full_titles.append(escape(brief.title_original))
        message.section("\n".join(full_titles))
    if brief.summary:
        _long_text(message, "At a glance", brief.summary, brief)
    if brief.goals and not message.full:
        lines = []
        for goal in brief.goals:
            when = escape(goal.deadline_label)
            if goal.due_on:
                when += f", {countdown(goal.days_left)}"
            status = "" if goal.status == "open" else f" [{goal.status}]"
            lines.append(f"\u2022 `{goal.ref}` *{when}*{status}: {escape(goal.text)}")
        _long_text_raw(message, "Goals", "\n".join(lines), brief)
    if brief.comment and not message.full:
        _long_text(message, "Comment", brief.comment, brief)
    if brief.links and not message.full:
        links = "\n".join(f"\u2022 <{link}|{escape(cut(link, 80))}>" for link in brief.links[:20])
        message.section("*Links*\n" + links, reserve=1)


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
    if message.chars + len(chunk) > MAX_TOTAL_CHARS - 600 or not message.room(reserve=3):
        message.section(prefix + "\u2026", accessory=Button("Show full brief", f"show {brief.ref}"))
        message.full = True
        return
    message.section(prefix + chunk, reserve=3)


def _deadline(message: _Message, item: DeadlineView) -> None:
    goal = item.goal
    text = (
        f"*{escape(goal.deadline_label)}* \u00b7 {countdown(goal.days_left)} \u00b7 `{goal.ref}`\n"
        f"{escape(cut(goal.text, 600))}\n"
        f"_{escape(item.brief.ref)} \u00b7 {escape(cut(item.brief.title, 200))}"
        + (f" \u00b7 {escape(item.brief.bodies_label)}" if item.brief.bodies else "")
        + "_"
    )
    message.section(text, accessory=Button("Show brief", f"show {item.brief.ref}"))


def render_blocks(reply: Reply) -> dict[str, Any]:
    """The message payload: text (notification fallback), blocks, response_type."""
    message = _Message()
    headline = (":warning: " if reply.is_error else "") + escape(reply.text)
    message.section(f"*{cut(headline, 2900)}*" if not reply.is_error else headline)
    if reply.notes:
        message.context(escape(" ".join(reply.notes)))
    for index, brief in enumerate(reply.briefs):
        if index:
            message.add(DividerBlock())
        _brief_item(message, brief)
    if reply.detail is not None:
        _detail(message, reply.detail)
    for item in reply.deadlines:
        _deadline(message, item)
    for entry in reply.help:
        examples = "  ".join(f"`{escape(e)}`" for e in entry.examples)
        message.section(f"*{escape(entry.usage)}*\n{escape(entry.summary)}\n{examples}")
    message.actions(reply.buttons)
    return {
        "text": cut(reply.text, 3000),
        "blocks": [block.to_dict() for block in message.blocks],
        "response_type": str(reply.visibility),
    }
