"""Watched sources in Slack: their section of the App Home tab (each source with its last
success, last error, items found and next poll, and Pause/Resume and Remove buttons), and
the action ids of those buttons (their listener, in bot/listeners/actions.py, runs the same
commands as `/policy source pause|resume|remove`: admins only; a refusal comes as a direct
message, the home tab has no reply).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from ..handlers.sources import SourceView
from .blocks import cut, escape

ACTION_SOURCE = "source_change"  # action_id "source_change:<pause|resume|remove>", value: ref
MAX_BLOCKS = 100  # of a home view
BLOCKS_PER_SOURCE = 2  # its section and its buttons
MAX_SECTION = 3000


def _section_text(view: SourceView) -> str:
    title = f"*{escape(view.ref)}* {escape(view.label)}".rstrip()
    if view.paused:
        title += " _(paused)_"
    lines = [
        title,
        f"{escape(view.url)} ({escape(view.kind)}, {escape(view.schedule)})",
        escape(view.status_line()),
    ]
    if error := view.error_line():
        lines.append(f":warning: {escape(error)}")
    return cut("\n".join(lines), MAX_SECTION)


def source_blocks(views: list[SourceView], room: int) -> list[dict[str, Any]]:
    """The App Home section for a workspace's sources, in at most `room` blocks; nothing
    when it watches none (the tab stays as it was) or there is no room for one source."""
    if not views or room < 2 + BLOCKS_PER_SOURCE:
        return []
    blocks: list[dict[str, Any]] = [HeaderBlock(text="Watched sources").to_dict()]
    shown = 0
    for view in views:
        if len(blocks) + BLOCKS_PER_SOURCE + 1 > room:
            break
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_section_text(view))).to_dict())
        toggle = "resume" if view.paused else "pause"
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Resume" if view.paused else "Pause",
                        action_id=f"{ACTION_SOURCE}:{toggle}",
                        value=view.ref,
                    ),
                    ButtonElement(
                        text="Remove",
                        action_id=f"{ACTION_SOURCE}:remove",
                        value=view.ref,
                        style="danger",
                        confirm=ConfirmObject(
                            title="Stop watching?",
                            text=cut(
                                f"Stop watching {view.ref} ({view.name})? The briefs it "
                                "brought stay in the corpus.",
                                300,
                            ),
                            confirm="Remove",
                            deny="Keep it",
                        ),
                    ),
                ]
            ).to_dict()
        )
        shown += 1
    hidden = len(views) - shown
    note = "`/policy source add URL [every 6h] [label]` adds one (admins)."
    if hidden:
        note = f"\u2026and {hidden} more: `/policy sources` lists them all. " + note
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict())
    return blocks


def with_sources(view: dict[str, Any], sources: list[SourceView]) -> dict[str, Any]:
    """The home view with the sources' section at its end, within Slack's 100 blocks."""
    blocks = list(view.get("blocks") or [])
    extra = source_blocks(sources, MAX_BLOCKS - len(blocks))
    return {**view, "blocks": blocks + extra} if extra else view
