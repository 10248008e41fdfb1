"""The registry of delivery kinds and of the planners that write their ledger rows.

Adding a kind: a module here declaring its `DeliveryKind` (owner, batching, delivery), its
rows written by a planner listed in PLANNERS, and one line in KINDS. Rows of a kind that is
not registered are never claimed; tests/scheduler/test_registry.py fails for any planned row
whose kind is missing here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from . import ledger
from .delivery import DeliveryKind, Owner
from .kinds import alerts, digest, followup
from .reminders import plan_reminders

# In the order a channel's batches are posted: digests, then alerts, then follow-ups.
KINDS: tuple[DeliveryKind, ...] = (digest.KIND, *alerts.KINDS, followup.KIND)
BY_NAME: dict[str, DeliveryKind] = {kind.name: kind for kind in KINDS}
OWNERS: dict[str, Owner] = {kind.name: kind.owner for kind in KINDS}  # what claims look at

# Each planner writes the rows that are due at `now` (each in its own transaction) and
# returns how many it planned.
Planner = Callable[[Session, datetime], int]
PLANNERS: tuple[Planner, ...] = (ledger.plan_digests, plan_reminders)
