"""The messages the scheduler posts, as plain values (briefs and goals as views): a slot's
digest, a batch of deadline alerts, follow-ups, a notice to a person.

The scheduler makes them (scheduler/kinds/), handlers/digests.py turns them into replies with
their buttons, and a poster in bot/ renders and posts them: none of the three reads another's
rows or writes another's commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from .views import BriefView, DeadlineView, GoalView


class SubscriptionLine(NamedTuple):
    """A subscription as a digest names it: its id (for its buttons), ref and query."""

    id: int
    ref: str
    query_text: str


@dataclass(frozen=True)
class Digest:
    """What a channel gets in one slot: the new briefs its due subscriptions matched (each
    brief once, with the subscriptions it matched) and, when they fall due together, its
    deadline alerts. Past the caps, the rest are named in `more_briefs` / `more_alerts`
    (delivered as a list behind a button)."""

    label: ClassVar[str] = "digest"  # what metrics count it as

    subscription_ref: str
    query_text: str
    briefs: tuple[BriefView, ...]
    part: int = 1
    parts: int = 1
    delivery_ids: tuple[int, ...] = ()  # ledger rows this message delivers
    matched: tuple[tuple[str, ...], ...] = ()  # per brief: refs of the subscriptions it matched
    subscriptions: tuple[SubscriptionLine, ...] = ()  # the slot's, by ref
    alerts: tuple[Alert, ...] = ()
    more_briefs: tuple[str, ...] = ()  # refs of briefs past the cap
    more_alerts: tuple[str, ...] = ()  # goal refs of alerts past the cap

    @property
    def brief_count(self) -> int:
        return len(self.briefs) + len(self.more_briefs)

    @property
    def headline(self) -> str:
        parts = []
        if self.brief_count:
            noun = "brief" if self.brief_count == 1 else "briefs"
            if len(self.subscriptions) > 1:
                what = "for " + ", ".join(line.ref for line in self.subscriptions)
            else:
                what = f"matching {self.query_text}" if self.query_text else ""
            parts.append(f"{self.brief_count} new {noun} {what}".strip())
        alerts = len(self.alerts) + len(self.more_alerts)
        if alerts:
            parts.append(f"{alerts} deadline alert{'s' if alerts > 1 else ''}")
        part = f" (part {self.part} of {self.parts})" if self.parts > 1 else ""
        return (" · ".join(parts) + part).replace("  ", " ").strip()


@dataclass(frozen=True)
class Alert:
    goal: GoalView
    brief: BriefView
    edge: str = "due"  # or "opens": the start of a window
    lead_days: int | None = None
    newly_tracked: bool = False

    @property
    def note(self) -> str:
        if self.newly_tracked:
            return "newly tracked"
        return "window opens" if self.edge == "opens" else ""


@dataclass(frozen=True)
class AlertBatch:
    label: ClassVar[str] = "alert"
    alerts: tuple[Alert, ...]
    part: int = 1
    parts: int = 1
    delivery_ids: tuple[int, ...] = ()
    more: tuple[str, ...] = ()  # goal refs of alerts past the cap

    @property
    def headline(self) -> str:
        count = len(self.alerts) + len(self.more)
        noun = "deadline alert" if count == 1 else "deadline alerts"
        part = f" (part {self.part} of {self.parts})" if self.parts > 1 else ""
        return f"{count} {noun}{part}"


@dataclass(frozen=True)
class FollowUp:
    """After deadlines passed: was each target met? A channel's follow-ups of one slot are one
    message: the first few goals with their answer buttons, the rest named in `more`."""

    label: ClassVar[str] = "followup"

    goals: tuple[DeadlineView, ...]
    delivery_ids: tuple[int, ...] = ()  # ledger rows this message delivers
    more: tuple[str, ...] = ()  # goal refs past the cap

    @property
    def count(self) -> int:
        return len(self.goals) + len(self.more)

    @property
    def headline(self) -> str:
        if self.count == 1:
            goal = self.goals[0].goal
            return (
                f"The deadline of {goal.ref} has passed ({goal.deadline_label}). "
                "Was this target met?"
            )
        return f"{self.count} deadlines have passed. Was each target met?"


@dataclass(frozen=True)
class Finalised:
    """A draft for comments the channel was told of has its final version: which, and what
    changed in its targets (scheduler/kinds/finalised.py)."""

    drafts: tuple[tuple[str, str], ...]  # (ref, title) of the drafts it finalises
    final_ref: str
    final_title: str
    final_date: str  # as a reader dates it, "10 Jan 2025"
    changes: tuple[str, ...]  # "added: ...", "moved: ... (by end of 2027 -> ...)", "removed: ..."
    delivery_ids: tuple[int, ...] = ()  # ledger rows this message delivers
    label: ClassVar[str] = "finalised"

    @property
    def text(self) -> str:
        drafts = ", ".join(f"{ref} ({title})" for ref, title in self.drafts)
        head = (
            f"The draft {drafts} is final: {self.final_ref} ({self.final_title}), "
            f"{self.final_date}. `/policy show {self.final_ref}` shows it."
        )
        if not self.changes:
            return head + " Its targets are unchanged."
        return (
            head
            + " What changed in its targets:\n"
            + "\n".join(f"\u2022 {change}" for change in self.changes)
        )


@dataclass(frozen=True)
class Notice:
    """A short message to a person (e.g. the subscriber, when a channel fails)."""

    label: ClassVar[str] = "notice"

    text: str


Outgoing = Digest | AlertBatch | FollowUp | Finalised | Notice
