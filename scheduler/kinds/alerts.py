"""Deadline alerts: a goal's deadline is `lead` days away (or a goal arrived late and is
"newly tracked"). They go out with the channel's digests of the same slot, in one message,
each goal once (scheduler/kinds/slot.py). This module is the kind: its names, its delivery
and its ledger keys; scheduler/kinds/alerts_planner.py plans its rows (and the follow-ups of
scheduler/kinds/followup.py: both read the same goals).

Rules, applied per (channel, goal):
- each (channel, goal, edge, lead) is alerted at most once (the ledger's unique key);
- a deadline moved by a revised brief is alerted anew (the date is part of the key);
- a goal that arrived after some of its leads had passed gets one "newly tracked" alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .. import ledger
from ..delivery import DeliveryKind, KindName, Owner
from .slot import SLOT, deliver_slot

REMINDER = KindName.REMINDER  # `lead` days before a deadline (or before a window opens)
NEWLY = KindName.NEWLY  # a goal that arrived after some of its leads had passed
KINDS = tuple(
    DeliveryKind(name, Owner.REMINDER_RULE, batch_key=lambda _item: SLOT, deliver=deliver_slot)
    for name in (REMINDER, NEWLY)
)


@dataclass(frozen=True)
class Edge:
    """A date a goal is alerted before: its deadline, or the opening of a window."""

    name: str  # "due", or "opens" for the start of a window
    on: date


def reminder_key(team: str, channel: str, goal_id: int, edge: Edge, lead: int) -> str:
    # The date is part of the key: a deadline moved by a revised brief is alerted anew.
    return ledger.alert_key(team, channel, goal_id, edge.name, edge.on, lead)


def newly_key(team: str, channel: str, goal_id: int) -> str:
    return f"newly:{team}:{channel}:{goal_id}"
