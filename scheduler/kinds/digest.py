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
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Select,
    Table,
    case,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...data.backends import backend_for
from ...data.errors import UserError
from ...data.models import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    ScheduleKind,
    Subscription,
    UTCDateTime,
)
from ...data.novelty import new_briefs_between
from ...data.schedules import Schedule, in_quiet_hours, next_run, quiet_hours_end
from ..delivery import DeliveryKind, KindName, Owner
from ..matching import CandidateMatcher, QueryFilters
from ..planning import DELIVERIES, key_expression, new_row_columns
from .slot import SLOT, deliver_slot

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
    due = list(map(_DueSubscription._make, session.execute(statement)))
    if not due:
        return 0
    waiting = _quiet_until(session, due, now)
    if waiting:
        _move_schedules(session, waiting, None)
        due = [s for s in due if s.id not in waiting]
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
    _move_due(session, due, now, planner.newest_seen)
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
    try:
        # A plain INSERT under a savepoint: ON CONFLICT's speculative insertion cost
        # PostgreSQL a tenth of the write for the conflicts planning never meets (it has
        # read the rows already planned).
        with session.begin_nested():  # the savepoint is set as the connection is asked for
            session.connection().execute(DELIVERIES.insert().from_select(_DIGEST_COLUMNS, rows))
    except IntegrityError:
        # Another scheduler may have planned some of the same rows a moment ago: the unique
        # key wins, and the others are written.
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


class _DueSubscription(NamedTuple):
    """What planning reads of a due subscription (plain columns, no ORM object; a tuple:
    ten thousand frozen dataclasses cost more to build than the rows cost to read)."""

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
    def schedule_key(self) -> tuple[object, ...]:
        """The columns the schedule is made of: many subscriptions share one."""
        return (self.kind, self.at_minute, self.weekday, self.timezone, self.month_day)

    @property
    def schedule(self) -> Schedule:
        return Schedule(
            ScheduleKind(self.kind), self.at_minute, self.weekday, self.timezone, self.month_day
        )


def _move_schedules(
    session: Session, next_due: Mapping[int, datetime], seen: datetime | None
) -> None:
    """Set next_due_at of a few subscriptions (those waiting for the end of quiet hours),
    one UPDATE per slot."""
    by_slot: dict[datetime, list[int]] = defaultdict(list)
    for subscription_id, slot in next_due.items():
        by_slot[slot].append(subscription_id)
    for slot, ids in by_slot.items():
        ids.sort()
        for start in range(0, len(ids), _UPDATE_CHUNK):
            session.execute(
                update(Subscription)
                .where(Subscription.id.in_(ids[start : start + _UPDATE_CHUNK]))
                .values(next_due_at=slot, **_checked_values(seen))
            )


# The due subscriptions, numbered by their next slot, for the UPDATE that moves them on: ten
# thousand ids bound as parameters cost more to send than the update itself.
_DUE_SLOTS = Table(
    "plan_digest_slots",
    MetaData(),
    Column("subscription_id", Integer, primary_key=True),
    Column("slot_no", Integer),
    prefixes=["TEMPORARY"],
)


def _move_due(
    session: Session, due: Sequence[_DueSubscription], now: datetime, seen: datetime | None
) -> None:
    """Move the planned subscriptions to their next slot (missed slots coalesce into one),
    one UPDATE per distinct slot (a handful), with checked_until moved in the same write:
    one new version of each row, not two (PostgreSQL writes a whole row per UPDATE)."""
    if not due:
        return
    slots: dict[tuple[object, ...], datetime] = {}  # by the schedule's columns
    numbers: dict[datetime, int] = {}
    next_due: dict[int, datetime] = {}
    rows = []
    for subscription in due:
        key = subscription.schedule_key
        slot = slots.get(key)
        if slot is None:
            slot = slots[key] = next_run(subscription.schedule, now)
        next_due[subscription.id] = slot
        rows.append((subscription.id, numbers.setdefault(slot, len(numbers))))
    if len(rows) <= _UPDATE_CHUNK:  # a few: bound as parameters
        _move_schedules(session, next_due, seen)
        return
    connection = session.connection()
    _DUE_SLOTS.create(connection)
    backend_for(session).fill_table(connection, _DUE_SLOTS, rows)
    for slot, number in numbers.items():
        chosen = select(_DUE_SLOTS.c.subscription_id).where(_DUE_SLOTS.c.slot_no == number)
        connection.execute(
            update(Subscription)
            .where(Subscription.id.in_(chosen))
            .values(next_due_at=slot, **_checked_values(seen))
        )
    _DUE_SLOTS.drop(connection)


def _checked_values(seen: datetime | None) -> dict[str, object]:
    """checked_until moves to the newest brief planning read (when later), never to `now`:
    a tick at a `now` ahead of the clock (`policybot tick --now ...`) must not pass over
    briefs that are ingested later with earlier timestamps."""
    if seen is None:
        return {}
    return {
        "checked_until": case(
            (Subscription.checked_until < seen, literal(seen, UTCDateTime())),
            else_=Subscription.checked_until,
        )
    }


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
        delivered, in_channel = self._planned_before() if arrived else (set(), set())
        rows: list[tuple[int, int]] = []
        # Thousands of subscriptions share a query text: each text is looked up, matched
        # and ordered once (a filter's hash is not kept: hashing it 10,000 times was a
        # tenth of a second).
        by_text: dict[str, tuple[int, ...] | UserError] = {}
        for subscription in self.due:
            matched = by_text.get(subscription.query_text)
            if matched is None:
                where = self.filters.get(subscription.query_text)
                matched = by_text[subscription.query_text] = (
                    where
                    if isinstance(where, UserError)
                    else tuple(sorted(matcher.matching(where)))
                    if arrived
                    else ()
                )
            if isinstance(matched, UserError):
                self.broken[subscription.id] = f"its query no longer works: {matched}"[:200]
                continue
            start = starts[subscription.id]
            for brief_id in matched:
                if arrived[brief_id] <= start or (subscription.id, brief_id) in delivered:
                    continue
                # A brief reaches a channel once: another of its subscriptions (on another
                # schedule) already has it planned or sent.
                if (subscription.team_id, subscription.channel_id, brief_id) in in_channel:
                    continue
                rows.append((subscription.id, brief_id))
        return rows

    def _planned_before(self) -> tuple[set[tuple[int, int]], set[tuple[str, str, int]]]:
        """Of the digest rows of the briefs that arrived: (subscription, brief) of the due
        subscriptions' (any status), and (team, channel, brief) of those planned or sent to
        their channels (dropped rows do not count). One read by brief: a chunked read by
        subscription and by channel was forty statements, each with hundreds of parameters,
        at 10,000 due subscriptions."""
        due_ids = {s.id for s in self.due}
        channels = {(s.team_id, s.channel_id) for s in self.due}
        delivered: set[tuple[int, int]] = set()
        in_channel: set[tuple[str, str, int]] = set()
        rows = self.session.execute(
            select(
                Delivery.subscription_id,
                Delivery.team_id,
                Delivery.channel_id,
                Delivery.brief_id,
                Delivery.status,
            ).where(Delivery.kind == DIGEST, Delivery.brief_id.in_(self.ids))
        )
        for subscription_id, team, channel, brief_id, status in rows:
            if brief_id is None:
                continue  # not read: the read is by brief
            if subscription_id in due_ids:
                delivered.add((subscription_id, brief_id))
            if status != DeliveryStatus.DROPPED and (team, channel) in channels:
                in_channel.add((team, channel, brief_id))
        return delivered, in_channel


def _quiet_until(
    session: Session, due: Sequence[_DueSubscription], now: datetime
) -> dict[int, datetime]:
    """Instant subscriptions wait for the end of their channel's quiet hours: when each of
    those in quiet hours now may go, by subscription id (one read of the channels'
    settings)."""
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
            waiting[subscription.id] = quiet_hours_end(
                now, channel.quiet_start, channel.quiet_end, zone
            )
    return waiting
