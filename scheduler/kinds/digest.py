"""Digests: the new briefs a subscription matched, one ledger row per (subscription, brief).
A channel's due digests, and the alerts due with them, go out as one message per slot
(scheduler/kinds/slot.py).

Planning (`plan_digests`) writes the rows of every due subscription in the transaction
that moves its schedule forward; the key `digest:<subscription>:<brief>` makes planning
twice add nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Integer, MetaData, Select, Table, literal, select, true, update
from sqlalchemy.orm import Session

from policybot.data.backends import backend_for
from policybot.data.errors import UserError
from policybot.data.models import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    ScheduleKind,
    Subscription,
)
from policybot.data.novelty import new_briefs_between
from policybot.data.schedules import Schedule, in_quiet_hours, next_run, quiet_hours_end
from policybot.scheduler.delivery import DeliveryKind, KindName, Owner
from policybot.scheduler.kinds.slot import SLOT, deliver_slot
from policybot.scheduler.matching import CandidateMatcher, QueryFilters
from policybot.scheduler.planning import DELIVERIES, key_expression, new_row_columns

DIGEST = KindName.DIGEST
KIND = DeliveryKind(DIGEST, Owner.SUBSCRIPTION, batch_key=lambda _item: SLOT, deliver=deliver_slot)

# A brief whose ingestion transaction was still open when a digest was planned is caught by
# the next plan: planning looks back this far behind the last horizon.
INGEST_GRACE = timedelta(minutes=10)


def plan_digests(session: Session, now: datetime) -> int:
    """Write ledger rows for every subscription that is due; returns rows planned.

    Work grows with what is due, not with history: the briefs that arrived since the
    earliest due horizon are read once, each distinct search term is tested once against
    just those briefs, and each subscription's query is then set arithmetic over them.
    Subscriptions are read as plain columns and written back set-wise: one UPDATE per
    distinct next slot (a handful), not one per subscription.
    """
    statement = cast(
        "Select[Any]",  # the backend's claim lock is typed for one-entity selects
        select(*_DUE_COLUMNS)
        .where(Subscription.paused_reason.is_(None), Subscription.next_due_at <= now)
        .order_by(Subscription.id),
    )
    statement = backend_for(session).lock_for_claim(statement)
    due = [_DueSubscription(*row) for row in session.execute(statement)]
    if not due:
        return 0
    waiting = _quiet_until(session, due, now)
    _move_schedules(session, {s.id: end for s, end in waiting.items()}, now, checked=False)
    due = [s for s in due if s not in waiting]
    planner = _DigestPlanner(session, now, due)
    pairs = planner.pairs()
    if pairs:
        _write_digest_rows(session, pairs, now)
    for subscription_id, reason in planner.broken.items():
        # The query stopped making sense (a body alias was removed): say so, keep the rest.
        session.execute(
            update(Subscription)
            .where(Subscription.id == subscription_id)
            .values(paused_reason=reason, paused_at=now)
        )
    slots: dict[Schedule, datetime] = {}
    next_due = {}
    for subscription in due:
        schedule = subscription.schedule
        if schedule not in slots:
            slots[schedule] = next_run(schedule, now)  # missed slots coalesce into one
        next_due[subscription.id] = slots[schedule]
    _move_schedules(session, next_due, now, checked=False)
    _advance_marks(session, [s.id for s in due], planner.newest_seen)
    return len(pairs)


# Digest rows are written by the database from (subscription, brief) pairs: ten thousand
# due subscriptions plan tens of thousands of rows, and binding thirteen typed values a row
# in Python cost more than the insert itself.
_DIGEST_PAIRS = Table(
    "plan_digest_pairs",
    MetaData(),
    Column("subscription_id", Integer, primary_key=True),
    Column("brief_id", Integer, primary_key=True),
    prefixes=["TEMPORARY"],
)


def _write_digest_rows(session: Session, pairs: list[tuple[int, int]], now: datetime) -> None:
    """The digest rows of these (subscription, brief) pairs. The temporary table is dropped
    when done; a failure rolls back its creation with the rest."""
    connection = session.connection()
    backend = backend_for(session)
    pair = _DIGEST_PAIRS.c
    _DIGEST_PAIRS.create(connection)
    backend.fill_table(connection, _DIGEST_PAIRS, pairs)
    key = key_expression("digest", pair.subscription_id, pair.brief_id)
    rows = (
        select(
            key,
            literal(DIGEST.value),
            Subscription.team_id,
            Subscription.channel_id,
            pair.subscription_id,
            pair.brief_id,
            literal(DeliveryStatus.PENDING.value),
            *new_row_columns(now),
        )
        .select_from(_DIGEST_PAIRS.join(Subscription, Subscription.id == pair.subscription_id))
        .where(true())  # SQLite: a WHERE keeps "ON CONFLICT" from reading as the join's ON
    )
    # Another scheduler may have planned the same rows a moment ago: the unique key wins.
    insert = backend.insert_ignoring_duplicates(DELIVERIES, ["dedupe_key"])
    connection.execute(insert.from_select(_DIGEST_COLUMNS, rows))
    _DIGEST_PAIRS.drop(connection)


_DIGEST_COLUMNS = (
    "dedupe_key",
    "kind",
    "team_id",
    "channel_id",
    "subscription_id",
    "brief_id",
    "status",
    "created_at",
    "next_attempt_at",
    "attempts",
)


def _advance_marks(session: Session, ids: list[int], seen: datetime | None) -> None:
    """checked_until moves to the newest brief planning read, never to `now`: a tick at a
    `now` ahead of the clock (`policybot tick --now ...`) must not pass over briefs that are
    ingested later with earlier timestamps."""
    if seen is None:
        return
    for start in range(0, len(ids), _UPDATE_CHUNK):
        session.execute(
            update(Subscription)
            .where(
                Subscription.id.in_(ids[start : start + _UPDATE_CHUNK]),
                Subscription.checked_until < seen,
            )
            .values(checked_until=seen)
        )


_DUE_COLUMNS = (
    Subscription.id,
    Subscription.team_id,
    Subscription.channel_id,
    Subscription.query_text,
    Subscription.schedule,
    Subscription.weekday,
    Subscription.at_minute,
    Subscription.timezone,
    Subscription.created_at,
    Subscription.checked_until,
    Subscription.month_day,
)
_UPDATE_CHUNK = 1000


@dataclass(frozen=True)
class _DueSubscription:
    """What planning reads of a due subscription (plain columns, no ORM object)."""

    id: int
    team_id: str
    channel_id: str
    query_text: str
    kind: str
    weekday: int | None
    at_minute: int
    timezone: str
    created_at: datetime
    checked_until: datetime
    month_day: int | None

    @property
    def schedule(self) -> Schedule:
        return Schedule(
            ScheduleKind(self.kind), self.at_minute, self.weekday, self.timezone, self.month_day
        )


def _move_schedules(
    session: Session, next_due: Mapping[int, datetime], now: datetime, *, checked: bool
) -> None:
    """Set next_due_at (and checked_until = now when planned), one UPDATE per slot."""
    by_slot: dict[datetime, list[int]] = defaultdict(list)
    for subscription_id, slot in next_due.items():
        by_slot[slot].append(subscription_id)
    values: dict[str, object] = {"checked_until": now} if checked else {}
    for slot, ids in by_slot.items():
        ids.sort()
        for start in range(0, len(ids), _UPDATE_CHUNK):
            session.execute(
                update(Subscription)
                .where(Subscription.id.in_(ids[start : start + _UPDATE_CHUNK]))
                .values(next_due_at=slot, **values)
            )


class _DigestPlanner:
    def __init__(self, session: Session, now: datetime, due: list[_DueSubscription]) -> None:
        self.session = session
        self.now = now
        self.due = due
        self.filters = QueryFilters(session)
        self.broken: dict[int, str] = {}  # subscription id -> why its query stopped working
        self.newest_seen: datetime | None = None  # the latest ingestion time planning read

    def pairs(self) -> list[tuple[int, int]]:
        """(subscription, brief) of every digest row to plan."""
        if not self.due:
            return []
        starts = {s.id: max(s.checked_until - INGEST_GRACE, s.created_at) for s in self.due}
        # "New" by data/novelty.py: archive briefs never arrive, whenever ingested.
        arrived = dict(
            self.session.execute(new_briefs_between(min(starts.values()), self.now)).all()
        )
        self.ids = sorted(arrived)
        self.newest_seen = max(arrived.values(), default=None)
        matcher = CandidateMatcher(self.session, self.ids)
        delivered = self._delivered() if arrived else set()
        in_channel = self._in_channels() if arrived else set()
        rows: list[tuple[int, int]] = []
        for subscription in self.due:
            where = self.filters.get(subscription.query_text)
            if isinstance(where, UserError):
                self.broken[subscription.id] = f"its query no longer works: {where}"[:200]
                continue
            if not arrived:
                continue
            start = starts[subscription.id]
            for brief_id in sorted(matcher.matching(where)):
                if arrived[brief_id] <= start or (subscription.id, brief_id) in delivered:
                    continue
                # A brief reaches a channel once: another of its subscriptions (on another
                # schedule) already has it planned or sent.
                if (subscription.team_id, subscription.channel_id, brief_id) in in_channel:
                    continue
                rows.append((subscription.id, brief_id))
        return rows

    def _in_channels(self) -> set[tuple[str, str, int]]:
        """(team, channel, brief) of digest rows already planned or sent to the due
        subscriptions' channels, for the briefs that arrived (dropped rows do not count)."""
        channels = sorted({s.channel_id for s in self.due})
        found: set[tuple[str, str, int]] = set()
        for i in range(0, len(channels), 500):
            rows = self.session.execute(
                select(Delivery.team_id, Delivery.channel_id, Delivery.brief_id).where(
                    Delivery.kind == DIGEST,
                    Delivery.channel_id.in_(channels[i : i + 500]),
                    Delivery.brief_id.in_(self.ids),
                    Delivery.status != DeliveryStatus.DROPPED,
                )
            )
            found.update((team, channel, brief) for team, channel, brief in rows if brief)
        return found

    def _delivered(self) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        due_ids = [s.id for s in self.due]
        for i in range(0, len(due_ids), 500):
            found.update(
                self.session.execute(
                    select(Delivery.subscription_id, Delivery.brief_id).where(
                        Delivery.subscription_id.in_(due_ids[i : i + 500]),
                        Delivery.brief_id.in_(self.ids),
                    )
                ).all()  # type: ignore[arg-type]
            )
        return found


def _quiet_until(
    session: Session, due: Sequence[_DueSubscription], now: datetime
) -> dict[_DueSubscription, datetime]:
    """Instant subscriptions wait for the end of their channel's quiet hours: when each of
    those in quiet hours now may go (one read of the channels' settings)."""
    instant = [s for s in due if s.kind == ScheduleKind.INSTANT]
    if not instant:
        return {}
    channels = sorted({s.channel_id for s in instant})
    settings: dict[tuple[str, str], ChannelSettings] = {}
    for start in range(0, len(channels), 500):
        for found in session.scalars(
            select(ChannelSettings).where(
                ChannelSettings.channel_id.in_(channels[start : start + 500])
            )
        ):
            settings[(found.team_id, found.channel_id)] = found
    waiting = {}
    for subscription in instant:
        channel = settings.get((subscription.team_id, subscription.channel_id))
        if channel is None or channel.quiet_start is None or channel.quiet_end is None:
            continue
        zone = ZoneInfo(channel.timezone)
        if in_quiet_hours(now, channel.quiet_start, channel.quiet_end, zone):
            waiting[subscription] = quiet_hours_end(
                now, channel.quiet_start, channel.quiet_end, zone
            )
    return waiting
