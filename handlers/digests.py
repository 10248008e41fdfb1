"""Scheduled messages as replies: a slot's digest, deadline alerts and follow-ups, with the
buttons they carry (what each button runs is a command, so it is written here, beside the
commands, and never by the poster that renders it)."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.messages import AlertBatch, Digest, FollowUp, Outgoing, SubscriptionLine
from ..data.views import DeadlineView
from .replies import Button, Reply

MAX_FOOTER_BUTTONS = 3  # Unsubscribe buttons named in a digest's footer
MAX_LIST_VALUE = 1500  # of a "See the other N" button's command (Slack's value limit: 2000)


def reply_for(message: Outgoing) -> Reply:
    """Scheduled messages reuse the command replies' rendering."""
    if isinstance(message, Digest):
        return _digest_reply(message)
    if isinstance(message, AlertBatch):
        reply = Reply(
            text=message.headline,
            deadlines=[DeadlineView(a.goal, a.brief, a.note) for a in message.alerts],
        )
        add_more(reply, message.more, "deadline alert")
        return reply
    if isinstance(message, FollowUp):
        if message.count == 1:
            (item,) = message.goals
            return Reply(
                text=message.headline,
                deadlines=[item],
                buttons=answer_buttons(item.goal.ref, replaces=True),
            )
        reply = Reply(
            text=message.headline,
            deadlines=list(message.goals),
            notes=[answer_each(message)],
        )
        add_more(reply, message.more, "target")
        return reply
    return Reply(text=message.text)


def _digest_reply(message: Digest) -> Reply:
    """One slot's message: the briefs (each once), the alerts due with them, "and N more"
    behind a button, and a footer naming the subscriptions with their controls."""
    reply = Reply(
        text=message.headline,
        briefs=list(message.briefs),
        deadlines=[DeadlineView(a.goal, a.brief, a.note) for a in message.alerts],
    )
    add_more(reply, message.more_briefs, "brief")
    add_more(reply, message.more_alerts, "deadline alert")
    # A digest made without its subscriptions (none stored any more) names its ref alone.
    named = message.subscriptions or (
        SubscriptionLine(0, message.subscription_ref, message.query_text),
    )
    if len(named) > 1:
        shared = [
            f"{brief.ref} matched {_and(refs)}"
            for brief, refs in zip(message.briefs, message.matched, strict=False)
            if len(refs) > 1
        ]
        reply.footer.extend(shared)
    reply.footer.append(
        "From "
        + ", ".join(f"{line.ref} ({line.query_text or 'every new brief'})" for line in named)
        + ". `/policy subscriptions` to change them."
    )
    for line in named[:MAX_FOOTER_BUTTONS]:
        if line.id:
            reply.buttons.append(Button(f"Unsubscribe {line.ref}", f"unsubscribe {line.ref}"))
    reply.buttons.append(Button("Edit subscriptions", "subscriptions"))
    return reply


def _and(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def add_more(reply: Reply, refs: tuple[str, ...], noun: str) -> None:
    """ "...and N more", and a button listing them: all of them when their ids fit in a
    button, else as many as fit (a very large slot), said on the button."""
    if not refs:
        return
    plural = noun if len(refs) == 1 else f"{noun}s"
    reply.notes.append(f"\u2026and {len(refs)} more {plural}.")
    listed: list[str] = []
    size = len("list")
    for ref in refs:
        if size + 1 + len(ref) > MAX_LIST_VALUE:
            break
        listed.append(ref)
        size += 1 + len(ref)
    label = (
        f"See the other {len(refs)}"
        if len(listed) == len(refs)
        else f"See the next {len(listed)} of {len(refs)}"
    )
    reply.buttons.append(Button(label, "list " + " ".join(listed)))


def answer_each(message: FollowUp) -> str:
    example = message.goals[0].goal.ref
    return (
        f"Answer each with its buttons or `/policy status {example} met` (or `missed`, "
        "`unclear`); `/policy scorecard` shows every answer."
    )


def answer_buttons(goal_ref: str, *, replaces: bool) -> list[Button]:
    """Met / Missed / Unclear for one goal. On a message about one goal the answer replaces
    it (for everyone); on one about several, the answer goes to whoever clicked and the
    message keeps the other goals' buttons."""
    return [
        Button(label, f"status {goal_ref} {answer}", primary=answer == "met", replaces=replaces)
        for label, answer in (("Met", "met"), ("Missed", "missed"), ("Unclear", "unclear"))
    ]


@dataclass(frozen=True)
class FollowUpRows:
    """A follow-up about several goals, laid out as rows: each goal with its own buttons (a
    Reply has buttons only at its end), then the goals past the cap behind a button."""

    headline: str
    note: str
    goals: tuple[tuple[DeadlineView, tuple[Button, ...]], ...]
    more: Reply | None  # "...and N more targets" with its button


def follow_up_rows(message: FollowUp) -> FollowUpRows:
    goals = tuple(
        (
            item,
            (
                *answer_buttons(item.goal.ref, replaces=False),
                Button(f"Show {item.brief.ref}", f"show {item.brief.ref}"),
            ),
        )
        for item in message.goals
    )
    more = None
    if message.more:
        more = Reply(text="")
        add_more(more, message.more, "target")
    return FollowUpRows(message.headline, answer_each(message), goals, more)
