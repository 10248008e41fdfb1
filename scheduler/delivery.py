"""The shapes every delivery kind works with: the kinds' names, a claimed ledger row, what a
kind makes of a batch of them (an Outcome), the tick's report, and the declaration a kind
registers.

A delivery kind is one module in scheduler/kinds/: its planner (which writes its ledger
rows), its keys (what makes a row unique), and its message (what a batch of its claimed rows
becomes). It says who owns its rows (a subscription or a reminder rule, which must exist and
not be paused for a row to be claimed) and how claimed rows are batched into messages. It
never posts: the ticker posts the Outcome's message, records it, and applies the failure
policy (scheduler/ticker.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from threading import Lock

from sqlalchemy.orm import Session

from ..data.models import Delivery
from .messages import Outgoing


class KindName(StrEnum):
    """`Delivery.kind`: which kind planned a row (and so which kind delivers it)."""

    DIGEST = "digest"  # a new brief a subscription matched
    REMINDER = "reminder"  # a deadline alert, `lead_days` before an edge
    NEWLY = "newly"  # a goal that became known after its alerts fell due
    FOLLOWUP = "followup"  # a week after a deadline: was the target met?
    FINALISED = "finalised"  # a draft the channel was sent is final (owned by a subscription)
    FINALISED_RULE = "finalised_rule"  # the same, owned by the reminder rule that alerted it


class Owner(StrEnum):
    """The ledger column naming the row's owner; a row is claimable while its owner exists
    and is not paused."""

    SUBSCRIPTION = "subscription_id"
    REMINDER_RULE = "reminder_id"


@dataclass(frozen=True)
class ClaimedItem:
    """A ledger row this worker claimed, as plain values."""

    id: int
    kind: KindName
    team_id: str
    channel_id: str
    subscription_id: int | None
    brief_id: int | None
    goal_id: int | None
    edge: str | None
    lead_days: int | None
    attempts: int
    # Set when the row was claimed before by a worker that vanished (or its post timed out):
    # it may have been posted after this instant, so look before posting it again.
    uncertain_since: datetime | None = None
    reminder_id: int | None = None
    # Set on a rule run (one row for a rule's alerts or follow-ups of one plan interval,
    # docs/ledger-unit.md): its alerts are its `alert_items`, not `goal_id`.
    covers_after: datetime | None = None

    @property
    def is_run(self) -> bool:
        return self.covers_after is not None

    @classmethod
    def of(cls, row: Delivery, uncertain_since: datetime | None) -> ClaimedItem:
        return cls(
            row.id,
            KindName(row.kind),
            row.team_id,
            row.channel_id,
            row.subscription_id,
            row.brief_id,
            row.goal_id,
            row.edge,
            row.lead_days,
            row.attempts,
            uncertain_since,
            row.reminder_id,
            row.covers_after,
        )


@dataclass(frozen=True)
class Outcome:
    """What a kind makes of a batch of claimed rows: the message to post (None: nothing to
    post), the rows it delivers (`posted`: marked sent with it, or handed back together when
    the post fails), the rows another alert covers (`folded`: never posted) and the rows whose
    brief or goal was deleted after planning (`gone`)."""

    message: Outgoing | None = None
    posted: tuple[int, ...] = ()
    folded: tuple[int, ...] = ()
    gone: tuple[int, ...] = ()
    owner: str | None = None  # whom to tell when the channel refuses the post


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


# What a batch of a channel's claimed rows becomes, read in one read-only session:
# (session, team, channel, rows, now) -> Outcome.
Deliver = Callable[[Session, str, str, list[ClaimedItem], datetime], Outcome]
# Writes what a claim's rows need fixed before their first post (a rule run's alert items),
# in one write transaction before any of them is delivered: (session, rows, now). Runs once
# per claim for all rows of the kinds sharing it, across channels.
Prepare = Callable[[Session, list[ClaimedItem], datetime], None]
# Writes the rows that are due at `now` (in the transaction given) and returns how many.
Planner = Callable[[Session, datetime], int]


@dataclass(frozen=True)
class DeliveryKind:
    name: KindName  # `Delivery.kind` of its rows
    owner: Owner
    # Rows with the same batch key (across kinds) are delivered together by one call.
    batch_key: Callable[[ClaimedItem], Hashable]
    deliver: Deliver
    prepare: Prepare | None = None
