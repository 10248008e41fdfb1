"""The delivery ledger: plan due work into rows, claim rows, mark them sent or retry.

Exactly-once rests on three things:
1. A row per (subscription, brief) with a unique `dedupe_key`, inserted in the transaction
   that moves the subscription's schedule forward, so planning twice adds nothing.
2. Claims flip `pending` rows to `claimed` in a short transaction (`FOR UPDATE SKIP LOCKED`
   on PostgreSQL), so two schedulers never hold the same row.
3. A row is marked `sent` in its own transaction right after Slack accepts the post.

The one unavoidable window is between Slack accepting a post and step 3 committing: a crash
there leaves the row `claimed`; once its lease expires it is posted again (a duplicate).
Everything else (a crash before the post, a failed post) re-sends nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session, aliased

from ..data.backends import backend_for
from ..data.errors import UserError
from ..data.models import (
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    ReminderRule,
    ScheduleKind,
    Subscription,
    UTCDateTime,
)
from ..data.novelty import new_briefs_between
from ..data.schedules import Schedule, in_quiet_hours, next_run, quiet_hours_end
from .delivery import Claim, Owner
from .kinds.digest import DIGEST
from .matching import CandidateMatcher, QueryFilters

# A brief whose ingestion transaction was still open when a digest was planned is caught by
# the next plan: planning looks back this far behind the last horizon.
INGEST_GRACE = timedelta(minutes=10)
# A claimed row whose worker vanished (crash, SIGKILL) is claimable again after this.
CLAIM_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS_BACKOFF = timedelta(hours=1)

# Ledger rows are written through the table, not the mapper: the ORM's bulk layer costs as
# much as the database for tens of thousands of plain rows.
DELIVERIES = cast(Table, Delivery.__table__)


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


def key_expression(prefix: str, *parts: ColumnElement[Any]) -> ColumnElement[str]:
    """A ledger dedupe key built by the database: `prefix:part:part...`, numbers as text
    (the same keys the Python planners write)."""
    key: ColumnElement[str] = literal(prefix)
    for part in parts:
        key = key + ":" + (part if isinstance(part.type, String) else cast_(part, String))
    return key


def new_row_columns(now: datetime) -> tuple[ColumnElement[Any], ...]:
    """created_at, next_attempt_at and attempts of a row planned `now`."""
    return (literal(now, UTCDateTime()), literal(now, UTCDateTime()), literal(0))


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
            literal(DIGEST),
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


def claim_due(
    session: Session,
    now: datetime,
    worker: str,
    owners: Mapping[str, Owner],
    limit: int = 500,
    team: str | None = None,
) -> list[Claim]:
    """Claim pending rows that are due, and claimed rows whose lease ran out, of the kinds in
    `owners` (kind name -> the column naming its owner); only `team`'s when given (a poster
    that reaches one workspace, like the console, spends no other workspace's rows).

    Claims take whole channels: the first `limit` due rows name the channels, and every other
    due row of those channels comes along, so a channel's slot is built from all of its rows
    (one message, each brief once) however the rows fall across batches. A channel with rows
    waiting for a later attempt (Retry-After, backoff) is skipped until they are due, so
    nothing newer reaches it before what waits (their next attempt takes both together)."""
    due = or_(
        and_(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now),
        and_(Delivery.status == DeliveryStatus.CLAIMED, Delivery.claimed_at <= now - CLAIM_LEASE),
    )
    # Every row has an owner (a subscription or a reminder rule) that must still exist and not
    # be paused; a deleted owner (SET NULL) means nothing is to be posted. A kind nobody
    # registered is never claimed.
    owned_by = {
        Owner.SUBSCRIPTION: exists().where(
            Subscription.id == Delivery.subscription_id, Subscription.paused_reason.is_(None)
        ),
        Owner.REMINDER_RULE: exists().where(
            ReminderRule.id == Delivery.reminder_id, ReminderRule.paused_reason.is_(None)
        ),
    }
    active = or_(
        *(
            and_(Delivery.kind.in_([k for k, o in owners.items() if o is owner]), condition)
            for owner, condition in owned_by.items()
            if owner in owners.values()
        )
    )
    # The held channels are read once (not per candidate row): the due index finds the rows
    # waiting for a later attempt, and the database keeps their channels as one set.
    waiting = aliased(Delivery)
    held = select(waiting.team_id, waiting.channel_id).where(
        waiting.status == DeliveryStatus.PENDING, waiting.next_attempt_at > now
    )
    not_held = tuple_(Delivery.team_id, Delivery.channel_id).not_in(held)
    claimable = and_(due, active, not_held)
    if team is not None:
        claimable = and_(claimable, Delivery.team_id == team)
    backend = backend_for(session)
    first = list(
        session.scalars(
            backend.lock_for_claim(
                select(Delivery).where(claimable).order_by(Delivery.id).limit(limit)
            )
        )
    )
    rows = first
    if len(first) == limit:
        # The rest of these channels' due rows: all later than the first batch's last row.
        channels = sorted({(row.team_id, row.channel_id) for row in first})
        for start in range(0, len(channels), _CHANNEL_CHUNK):
            chunk = channels[start : start + _CHANNEL_CHUNK]
            rows += session.scalars(
                backend.lock_for_claim(
                    select(Delivery)
                    .where(
                        claimable,
                        Delivery.id > first[-1].id,
                        tuple_(Delivery.team_id, Delivery.channel_id).in_(chunk),
                    )
                    .order_by(Delivery.id)
                )
            )
    claims = []
    for row in rows:
        expired = row.status == DeliveryStatus.CLAIMED
        claims.append(Claim(row, row.claimed_at if expired else None))
        row.status = DeliveryStatus.CLAIMED
        row.claimed_by = worker
        row.claimed_at = now
        row.attempts += 1
    return claims


_CHANNEL_CHUNK = 500


def waiting_elsewhere(session: Session, team: str, now: datetime) -> int:
    """Rows due for other workspaces than `team` (what a console tick leaves for Slack)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.team_id != team,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.next_attempt_at <= now,
            )
        )
        or 0
    )


def mark_sent(session: Session, ids: Sequence[int], worker: str, now: datetime, ts: str) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.claimed_by == worker)
        .values(status=DeliveryStatus.SENT, sent_at=now, message_ts=ts, last_error=None)
    )


def _held_by(worker: str, ids: Sequence[int]) -> ColumnElement[bool]:
    # Only rows this worker still holds: never a row already sent, dropped or reclaimed.
    return and_(
        Delivery.id.in_(ids),
        Delivery.status == DeliveryStatus.CLAIMED,
        Delivery.claimed_by == worker,
    )


def release_for_retry(
    session: Session,
    ids: Sequence[int],
    worker: str,
    attempts: int,
    now: datetime,
    error: str,
    wait: timedelta | None = None,
) -> None:
    """Back to pending: after `wait` (Slack's Retry-After) when given, else with backoff."""
    delay = wait if wait is not None else backoff(attempts)
    session.execute(
        update(Delivery)
        .where(_held_by(worker, ids))
        .values(status=DeliveryStatus.PENDING, next_attempt_at=now + delay, last_error=error[:200])
    )


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** min(attempts, 10)), MAX_ATTEMPTS_BACKOFF)


def goals_alerted_since(
    session: Session,
    team: str,
    channel: str,
    goal_ids: set[int],
    since: datetime,
    kinds: Sequence[str],
) -> set[int]:
    """Goals of `goal_ids` that the channel got an alert about (sent) since `since`."""
    return set(
        session.scalars(
            select(Delivery.goal_id)
            .where(
                Delivery.team_id == team,
                Delivery.channel_id == channel,
                Delivery.goal_id.in_(list(goal_ids)),
                Delivery.kind.in_(list(kinds)),
                Delivery.status == DeliveryStatus.SENT,
                Delivery.sent_at >= since,
            )
            .distinct()
        )
    )


def fold(session: Session, ids: Sequence[int], worker: str) -> None:
    """Rows another alert already covered: never posted, kept as folded."""
    session.execute(
        update(Delivery).where(_held_by(worker, ids)).values(status=DeliveryStatus.FOLDED)
    )


def hold_uncertain(
    session: Session, ids: Sequence[int], worker: str, now: datetime, recheck_after: timedelta
) -> None:
    """Rows whose post may have reached Slack (a timeout after sending) stay claimed, as after
    a crash, so they are never posted blind: their lease is shortened to end `recheck_after`
    from now, and the claim that takes them then looks in the channel's history first
    (`Claim.uncertain_since` is the shortened claim time, before the post)."""
    session.execute(
        update(Delivery)
        .where(_held_by(worker, ids))
        .values(claimed_at=now - CLAIM_LEASE + recheck_after)
    )


def release_paused(session: Session, ids: Sequence[int], worker: str, error: str) -> None:
    """Rows of a paused subscription wait (pending) until it is resumed; nothing is dropped."""
    session.execute(
        update(Delivery)
        .where(_held_by(worker, ids))
        .values(status=DeliveryStatus.PENDING, last_error=error[:200])
    )


def pause_subscription(
    session: Session, subscription_id: int, reason: str, now: datetime
) -> Subscription | None:
    subscription = session.get(Subscription, subscription_id)
    if subscription is not None and subscription.paused_reason is None:
        subscription.paused_reason = reason[:200]
        subscription.paused_at = now
        return subscription
    return None


def is_paused(session: Session, subscription_id: int | None) -> bool:
    if subscription_id is None:
        return False
    subscription = session.get(Subscription, subscription_id)
    return subscription is None or subscription.paused_reason is not None
