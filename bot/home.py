"""The App Home tab: a HomeView rendered with slack_sdk's Block Kit models and published
with `views.publish` when a user opens the tab.

A home view holds at most 100 blocks; headers take 150 characters and sections 3000. Long
lists are cut with "…and N more" so that the view stays inside those limits however many
subscriptions a user has. Stored and typed text is escaped (& < >) as in messages.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from ..data.db import unit_of_work
from ..data.views import BriefView, DeadlineView, countdown, due_summary
from ..handlers.context import Context
from ..handlers.home import ChannelView, HomeView, SetupView, build_home
from ..handlers.sources import source_views
from .blocks import ELLIPSIS, cut, escape
from .services import Services
from .sources import with_sources

log = logging.getLogger(__name__)

MAX_BLOCKS = 100
MAX_HEADER = 150
MAX_SECTION = 3000
SHOWN_DEADLINES = 15
SHOWN_SETUPS_PER_CHANNEL = 12
MAX_LINE = 300
_CHANNEL_ID = re.compile(r"^[A-Z0-9]{2,30}$")
ACTION_NEW = "home_new"  # value: "subscribe" or "remind"
ACTION_SEARCH = "home_search"
ACTION_REMIND = "home_remind"  # value: a brief ref; opens the remind form for its goals
ACTION_SETUP = "home_setup"  # overflow on a setup: "pause:s3", "edit:s3", "delete:s3"


class _View:
    """Blocks in order, never more than MAX_BLOCKS; `reserve` keeps room for what follows."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []

    def room(self, reserve: int = 0) -> int:
        return MAX_BLOCKS - reserve - len(self.blocks)

    def header(self, text: str) -> None:
        self.blocks.append(HeaderBlock(text=PlainTextObject(text=cut(text, MAX_HEADER))))

    def section(self, text: str) -> None:
        text = cut(text, MAX_SECTION)
        self.blocks.append(SectionBlock(text=MarkdownTextObject(text=text.strip() or ELLIPSIS)))

    def context(self, text: str) -> None:
        self.blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(text, MAX_SECTION))]))

    def divider(self) -> None:
        self.blocks.append(DividerBlock())

    def add(self, block: Block) -> None:
        self.blocks.append(block)


def _button(label: str, action_id: str, value: str, primary: bool = False) -> ButtonElement:
    return ButtonElement(
        text=label, action_id=action_id, value=value, style="primary" if primary else None
    )


def _setup_menu(setup: SetupView) -> OverflowMenuElement:
    pause = "Resume" if setup.paused else "Pause"
    return OverflowMenuElement(
        action_id=f"{ACTION_SETUP}:{setup.ref}",
        options=[
            Option(label=pause, value=f"pause:{setup.ref}"),
            Option(label="Edit", value=f"edit:{setup.ref}"),
            Option(label="Delete", value=f"delete:{setup.ref}"),
        ],
    )


def _and_more(count: int, noun: str, hint: str = "") -> str:
    return f"{ELLIPSIS}and {count} more {noun}" + (f": {hint}" if hint else ".")


def _deadline(item: DeadlineView) -> str:
    goal, brief = item.goal, item.brief
    meta = [brief.ref, cut(brief.title, 200), brief.date_label]
    if brief.bodies:
        meta.append(cut(brief.bodies_label, 200))
    return (
        f"*{escape(goal.deadline_label)}* \u00b7 {countdown(goal.days_left)}"
        f" \u00b7 `{escape(goal.ref)}`\n"
        f"{escape(cut(goal.text, 600))}\n"
        f"_{escape(' · '.join(meta))}_"
    )


def _brief(brief: BriefView) -> str:
    lines = [f"*{escape(brief.ref)}* \u00b7 *{escape(cut(brief.title, MAX_LINE))}*"]
    if brief.title_original:
        lines.append(escape(cut(brief.title_original, MAX_LINE)))
    meta = [brief.kind, brief.date_label] + ([brief.bodies_label] if brief.bodies else [])
    lines.append("_" + escape(cut(" \u00b7 ".join(meta), MAX_LINE)) + "_")
    if due := due_summary(brief):
        lines.append(":dart: " + escape(cut(due, MAX_LINE)))
    return "\n".join(lines)


def _setup(setup: SetupView) -> str:
    what = escape(cut(setup.what, 200))
    noun = "" if setup.kind == "subscription" else "reminders for "
    line = f"\u2022 `{escape(setup.ref)}` {noun}{what} \u2014 {escape(setup.when)}"
    if setup.paused:
        line += f" \u2014 *paused*: {escape(cut(setup.paused, 200))}"
    return cut(line, MAX_LINE)


def _picked(setups: tuple[SetupView, ...]) -> list[SetupView]:
    """The setups a channel shows: reminder rules keep a third of the lines when there are
    more subscriptions than fit, so neither kind hides the other."""
    subs = [s for s in setups if s.kind == "subscription"]
    rules = [s for s in setups if s.kind != "subscription"]
    most = SHOWN_SETUPS_PER_CHANNEL
    n_rules = min(len(rules), max(most // 3, most - len(subs)))
    return subs[: most - n_rules] + rules[:n_rules]


def _channel(view: _View, channel: ChannelView) -> int:
    """The channel's name, then one line per setup with Pause / Edit / Delete; returns how
    many setups were shown."""
    name = (
        f"<#{channel.channel_id}>"
        if _CHANNEL_ID.match(channel.channel_id)
        else escape(cut(channel.channel_id, 40))
    )
    view.section(f"*{name}*")
    picked = _picked(channel.setups)
    shown = 0
    for setup in picked:
        if view.room(reserve=3) < 1:
            break
        text = MarkdownTextObject(text=_setup(setup))
        view.add(SectionBlock(text=text, accessory=_setup_menu(setup)))
        shown += 1
    if shown < len(channel.setups):
        hidden = len(channel.setups) - shown
        view.context(_and_more(hidden, "here", "`/policy subscriptions` there"))
    return shown


def render_home(home: HomeView) -> dict[str, Any]:
    """The home view payload for `views.publish` (validated by slack_sdk on `to_dict()`)."""
    view = _View()
    view.header("policybot")
    view.context(
        f"Chinese industrial-policy briefs and their deadlines, as of {home.today.day} "
        f"{home.today:%b %Y}. Type `/policy help` in any channel for every command."
    )
    view.add(
        ActionsBlock(
            elements=[
                _button("New subscription", f"{ACTION_NEW}:subscribe", "subscribe", True),
                _button("New reminders", f"{ACTION_NEW}:remind", "remind"),
                _button("Search policies", ACTION_SEARCH, "search"),
            ]
        )
    )

    scope = "Your deadlines" if home.followed_only else "Deadlines"
    view.header(f"{scope} in the next {home.horizon_months} months")
    if not home.deadlines:
        view.section(f"No deadlines in the next {home.horizon_months} months.")
    for index, item in enumerate(home.deadlines[:SHOWN_DEADLINES]):
        remind = _button("Remind", f"{ACTION_REMIND}:{index}", item.brief.ref)
        text = cut(_deadline(item), MAX_SECTION)
        view.add(SectionBlock(text=MarkdownTextObject(text=text), accessory=remind))
    hidden = home.deadlines_total - min(len(home.deadlines), SHOWN_DEADLINES)
    if hidden > 0:
        command = f"`/policy deadlines within {home.horizon_months}m`"
        view.context(_and_more(hidden, "deadlines", command))
    view.context("`/policy deadlines ics` in a channel posts them as a calendar file.")
    view.divider()

    view.header("Latest briefs")
    if not home.latest:
        view.section("No briefs are stored yet.")
    for brief in home.latest:
        view.section(_brief(brief))
    view.divider()

    view.header("Your channels")
    if not home.channels:
        view.section(
            "You have not set up any channel yet. In a channel, try "
            "`/policy subscribe storage` for new briefs or `/policy remind` for deadline alerts."
        )
    shown_setups = 0
    for index, channel in enumerate(home.channels):
        if view.room(reserve=4) < 1:
            rest = len(home.channels) - index
            view.context(
                _and_more(rest, "channels" if rest > 1 else "channel")[:-1]
                + f" ({home.setups_total - shown_setups} subscriptions and reminder rules)."
            )
            break
        _channel(view, channel)
        shown_setups += len(channel.setups)
    return View(type="home", blocks=view.blocks).to_dict()


def publish_home(services: Services, client: WebClient, team_id: str, user_id: str) -> None:
    ctx = Context(now=services.clock(), team_id=team_id, channel_id="", user_id=user_id)
    with unit_of_work(services.sessions, read_only=True) as session:
        home = build_home(session, ctx)
        watched = source_views(session, team_id)
    client.views_publish(user_id=user_id, view=with_sources(render_home(home), watched))


def tell(client: WebClient, ctx: Context, text: str) -> None:
    """A refusal from App Home: a direct message from the bot (the home tab has no reply)."""
    client.chat_postMessage(channel=ctx.user_id, text=text)
