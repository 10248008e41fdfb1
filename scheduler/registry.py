"""The registry of delivery kinds and of the planners that write their ledger rows.

Adding a kind: a module in scheduler/kinds/ with its planner, its keys and its message (a
`DeliveryKind` whose `deliver` makes an Outcome of a batch of claimed rows), its name in
`KindName`, and one line here in KINDS (and PLANNERS). Rows of a kind that is not registered
are never claimed; tests/scheduler/test_registry.py fails for any planned row whose kind is
missing here.
"""

from __future__ import annotations

from .delivery import DeliveryKind, KindName, Owner, Planner
from .kinds import alerts_planner, alerts_runs, digest, finalised

# In the order a channel's batches are posted: digests, then alerts, then follow-ups, then
# drafts made final.
# The alert and follow-up kinds come with the step that fixes their rule runs' items.
KINDS: tuple[DeliveryKind, ...] = (digest.KIND, *alerts_runs.KINDS, *finalised.KINDS)
BY_NAME: dict[KindName, DeliveryKind] = {kind.name: kind for kind in KINDS}
OWNERS: dict[KindName, Owner] = {kind.name: kind.owner for kind in KINDS}  # what claims look at
# The kinds a reminder rule owns: deadline alerts and follow-ups (what metrics count as due).
REMINDER_KINDS: tuple[KindName, ...] = tuple(
    kind.name for kind in KINDS if kind.owner is Owner.REMINDER_RULE
)

# Each planner writes the rows that are due at `now` (each in its own transaction) and
# returns how many it planned. Alert planning also writes the follow-ups.
PLANNERS: tuple[Planner, ...] = (
    digest.plan_digests,
    alerts_planner.plan_reminders,
    finalised.plan_finalised,
)
