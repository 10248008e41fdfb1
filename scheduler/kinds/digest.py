"""Digests: the new briefs a subscription matched. A channel's due digests, and the alerts
due with them, go out as one message per slot (scheduler/kinds/slot.py)."""

from __future__ import annotations

from ..delivery import DeliveryKind, Owner
from .slot import SLOT, deliver_slot

DIGEST = "digest"

KIND = DeliveryKind(DIGEST, Owner.SUBSCRIPTION, batch_key=lambda _item: SLOT, deliver=deliver_slot)
