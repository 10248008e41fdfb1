"""What the scheduler hands to a Poster: plain values, rendered by the edge (Slack or text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ..data.views import BriefView, DeadlineView, GoalView


@dataclass(frozen=True)
class Digest:
    """What a channel gets in one slot: the new briefs its due subscriptions matched (each
    brief once, with the subscriptions it matched) and, when they fall due together, its
    deadline alerts. Past the caps, the rest are named in `more_briefs` / `more_alerts`
    (delivered as a list behind a button)."""

    subscription_ref: str
    query_text: str
    briefs: tuple[BriefView, ...]
    part: int = 1
    parts: int = 1
    delivery_ids: tuple[int, ...] = ()  # ledger rows this message delivers
    matched: tuple[tuple[str, ...], ...] = ()  # per brief: refs of the subscriptions it matched
    subscriptions: tuple[tuple[str, str], ...] = ()  # (ref, query text) of the slot's
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
                what = "for " + ", ".join(ref for ref, _ in self.subscriptions)
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
class Notice:
    """A short message to a person (e.g. the subscriber, when a channel fails)."""

    text: str


Outgoing = Digest | AlertBatch | FollowUp | Notice


class FailureKind(StrEnum):
    RETRY = "retry"  # rate limited, 5xx, network before sending: not posted, try again later
    # The request may have reached Slack (a timeout or a reset after sending): never posted
    # again blind; the channel's history decides, as after a crash.
    UNCERTAIN = "uncertain"
    CHANNEL = "channel"  # channel_not_found, not_in_channel, is_archived: pause, tell the owner
    AUTH = "auth"  # invalid_auth, account_inactive, token_revoked: pause the team's deliveries


class DeliveryError(Exception):
    def __init__(
        self, kind: FailureKind, code: str, reason: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(f"{kind}: {code}")
        self.kind = kind
        self.code = code
        self.reason = reason or "the post was refused"  # for people: why, in a few words
        # Seconds Slack asked us to wait (429 Retry-After): the channel's rows wait that long.
        self.retry_after = retry_after


class Poster(Protocol):
    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        """Post and return the message id (Slack's ts); raise DeliveryError on failure."""
        ...

    def find_posted(
        self, team_id: str, channel_id: str, since: datetime, delivery_ids: set[int]
    ) -> set[int]:
        """Which of these ledger rows a message posted since `since` already carries (a
        worker died after posting, or a post timed out, before it was recorded). Empty when
        the history cannot be read at all (no scope, not a member): the rows are posted
        again. Raises DeliveryError(RETRY) when the lookup failed for now (rate limited,
        network): the rows stay uncertain and are looked up again later."""
        ...
