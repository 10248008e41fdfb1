"""What the scheduler hands to a Poster: plain values, rendered by the edge (Slack or text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from policybot.data.views import BriefView, GoalView


@dataclass(frozen=True)
class Digest:
    subscription_ref: str
    query_text: str
    briefs: tuple[BriefView, ...]
    part: int = 1
    parts: int = 1
    delivery_ids: tuple[int, ...] = ()  # ledger rows this message delivers

    @property
    def headline(self) -> str:
        what = f"matching {self.query_text}" if self.query_text else ""
        noun = "brief" if len(self.briefs) == 1 else "briefs"
        part = f" (part {self.part} of {self.parts})" if self.parts > 1 else ""
        return f"{len(self.briefs)} new {noun} {what}{part}".replace("  ", " ").strip()


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

    @property
    def headline(self) -> str:
        noun = "deadline alert" if len(self.alerts) == 1 else "deadline alerts"
        part = f" (part {self.part} of {self.parts})" if self.parts > 1 else ""
        return f"{len(self.alerts)} {noun}{part}"


@dataclass(frozen=True)
class FollowUp:
    """After a deadline: was the target met?"""

    goal: GoalView
    brief: BriefView
    delivery_ids: tuple[int, ...] = ()


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
