"""The shapes every delivery kind works with: a claimed ledger row, the tick's report, what
a kind needs from the ticker (a Courier), and the declaration a kind registers.

A delivery kind says how its rows are claimed (who owns them: a subscription or a reminder
rule, which must exist and not be paused), how claimed rows are batched into messages, and
how a batch is rendered and posted (failures go back through the Courier). Planning is
declared beside the kinds in `scheduler.kinds.PLANNERS`: one planner may write rows of
several kinds (reminder planning writes alerts, "newly tracked" alerts and follow-ups).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from threading import Lock
from typing import Protocol

from ..data.db import SessionFactory
from ..data.models import Delivery
from .messages import DeliveryError, Poster


class Owner(StrEnum):
    """The ledger column naming the row's owner; a row is claimable while its owner exists
    and is not paused."""

    SUBSCRIPTION = "subscription_id"
    REMINDER_RULE = "reminder_id"


@dataclass(frozen=True)
class Claim:
    row: Delivery
    # Set when the row was claimed before by a worker that vanished: it may have been posted
    # after this instant, so look before posting it again.
    uncertain_since: datetime | None


@dataclass(frozen=True)
class ClaimedItem:
    id: int
    kind: str
    team_id: str
    channel_id: str
    subscription_id: int | None
    brief_id: int | None
    goal_id: int | None
    edge: str | None
    lead_days: int | None
    attempts: int
    uncertain_since: datetime | None = None
    reminder_id: int | None = None

    @classmethod
    def of(cls, claim: Claim) -> ClaimedItem:
        row = claim.row
        return cls(
            row.id,
            row.kind,
            row.team_id,
            row.channel_id,
            row.subscription_id,
            row.brief_id,
            row.goal_id,
            row.edge,
            row.lead_days,
            row.attempts,
            claim.uncertain_since,
            row.reminder_id,
        )


@dataclass
class TickReport:
    leader: bool = True
    planned: int = 0
    claimed: int = 0
    messages: int = 0
    sent: int = 0
    retried: int = 0
    recovered: int = 0  # found already posted by a worker that died before recording it
    paused: list[str] = field(default_factory=list)
    _lock: Lock = field(default_factory=Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


@dataclass(frozen=True)
class ChannelStop:
    """The channel takes nothing more this tick: its untried rows wait `wait` (None: until
    the next tick, or until a paused owner is resumed)."""

    wait: timedelta | None
    code: str


class Courier(Protocol):
    """What a delivery kind may use of the ticker that runs it."""

    sessions: SessionFactory
    poster: Poster

    def mark_sent(self, ids: list[int], now: datetime, ts: str) -> None:
        """Record rows as delivered by the message `ts` (or a reason: "gone")."""
        ...

    def alerted_recently(
        self, team: str, channel: str, goal_ids: set[int], since: datetime
    ) -> set[int]:
        """Of these goals, those the channel got an alert about since `since`."""
        ...

    def fold(self, ids: list[int]) -> None:
        """Record rows as folded into another alert (never posted on their own)."""
        ...

    def failed(
        self,
        error: DeliveryError,
        team: str,
        channel: str,
        subscription_id: int | None,
        owner: str | None,
        message_ids: list[int],
        remaining: list[int],
        items: list[ClaimedItem],
        now: datetime,
        report: TickReport,
    ) -> ChannelStop | None:
        """Handle a failed post of `message_ids` (`remaining`: those and the batch's rows
        not yet posted): retry later, hold as uncertain, or pause. A ChannelStop when the
        channel's other batches must wait."""
        ...


# Posts one batch of a channel's claimed rows; a ChannelStop when the channel's other
# batches must wait (what `Courier.failed` returned).
Deliver = Callable[[Courier, str, str, list[ClaimedItem], datetime, TickReport], ChannelStop | None]


@dataclass(frozen=True)
class DeliveryKind:
    name: str  # `Delivery.kind` of its rows
    owner: Owner
    # Rows with the same batch key (across kinds) are delivered together by one call.
    batch_key: Callable[[ClaimedItem], Hashable]
    deliver: Deliver
