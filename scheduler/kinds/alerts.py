"""Deadline alerts: a goal's deadline is `lead` days away (or a goal arrived late and is
"newly tracked"). They go out with the channel's digests of the same slot, in one message,
each goal once (scheduler/kinds/slot.py)."""

from __future__ import annotations

from ..delivery import DeliveryKind, Owner
from .slot import SLOT, deliver_slot

REMINDER = "reminder"  # `lead` days before a deadline (or before a window opens)
NEWLY = "newly"  # a goal that arrived after some of its leads had passed

KINDS = tuple(
    DeliveryKind(name, Owner.REMINDER_RULE, batch_key=lambda _item: SLOT, deliver=deliver_slot)
    for name in (REMINDER, NEWLY)
)
