"""The delivery ledger: claim due rows, mark them sent, hand them back, fold, hold.

Exactly-once rests on three things:
1. A row per delivered thing with a unique `dedupe_key`, inserted by its kind's planner in
   the transaction that moves the owner's schedule forward, so planning twice adds nothing
   (scheduler/kinds/).
2. Claims flip `pending` rows to `claimed` in a short transaction (`FOR UPDATE SKIP LOCKED`
   on PostgreSQL), so two schedulers never hold the same row.
3. A row is marked `sent` in its own transaction right after Slack accepts the post.

The one unavoidable window is between Slack accepting a post and step 3 committing: a crash
there leaves the row `claimed`; once its lease expires the channel's history (messages carry
their ledger ids) decides whether it is posted again (scheduler/ticker.py).
Everything else (a crash before the post, a failed post) re-sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from ..data.backends import backend_for
from ..data.models import AlertItem, Delivery, DeliveryStatus, ReminderRule, Subscription
from .delivery import ClaimedItem, KindName, Owner

# A claimed row whose worker vanished (crash, SIGKILL) is claimable again after this.
CLAIM_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS_BACKOFF = timedelta(hours=1)


def claim_due(
    session: Session,
    now: datetime,
    worker: str,
    owners: Mapping[KindName, Owner],
    limit: int = 500,
    team: str | None = None,
) -> list[ClaimedItem]:
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
        # An expired claim may have posted the row after it was made: look before posting.
        uncertain_since = row.claimed_at if row.status == DeliveryStatus.CLAIMED else None
        row.status = DeliveryStatus.CLAIMED
        row.claimed_by = worker
        row.claimed_at = now
        row.attempts += 1
        claims.append(ClaimedItem.of(row, uncertain_since))
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
    kinds: Sequence[KindName],
) -> set[int]:
    """Goals of `goal_ids` that the channel got an alert about (sent) since `since`: by
    per-alert rows, and by the items a sent rule run showed."""
    wanted = sorted(goal_ids)
    sent_here = and_(
        Delivery.team_id == team,
        Delivery.channel_id == channel,
        Delivery.kind.in_(list(kinds)),
        Delivery.status == DeliveryStatus.SENT,
        Delivery.sent_at >= since,
    )
    found: set[int] = set()
    for start in range(0, len(wanted), _GOAL_CHUNK):
        chunk = wanted[start : start + _GOAL_CHUNK]
        found.update(
            session.scalars(
                select(Delivery.goal_id).where(sent_here, Delivery.goal_id.in_(chunk)).distinct()
            )
        )
        found.update(
            session.scalars(
                select(AlertItem.goal_id)
                .join(Delivery, Delivery.id == AlertItem.delivery_id)
                .where(sent_here, AlertItem.goal_id.in_(chunk), AlertItem.shown.is_(True))
                .distinct()
            )
        )
    return found


_GOAL_CHUNK = 500


def alerted_since_by_channel(
    session: Session,
    wanted: Mapping[tuple[str, str], set[int]],
    since: datetime,
    kinds: Sequence[KindName],
) -> dict[tuple[str, str], set[int]]:
    """`goals_alerted_since` for many channels at once ((team, channel) -> goal ids): the
    alerts sent since `since` on any of the goals in any of the channels, read once, kept
    for the channel asked. The channels are part of the query: a morning's goals were sent
    to every channel that watches them, and the rows of the channels not asked would grow
    with every claim posted before this one."""
    goals = sorted(set().union(*wanted.values())) if wanted else []
    found: dict[tuple[str, str], set[int]] = {channel: set() for channel in wanted}
    sent = and_(
        Delivery.kind.in_(list(kinds)),
        Delivery.status == DeliveryStatus.SENT,
        Delivery.sent_at >= since,
        Delivery.channel_id.in_(sorted({channel for _, channel in wanted})),
    )
    for start in range(0, len(goals), _GOAL_CHUNK):
        chunk = goals[start : start + _GOAL_CHUNK]
        per_alert = session.execute(
            select(Delivery.team_id, Delivery.channel_id, Delivery.goal_id).where(
                sent, Delivery.goal_id.in_(chunk)
            )
        )
        for team, channel, goal in per_alert:
            if goal is not None and goal in wanted.get((team, channel), ()):
                found[(team, channel)].add(goal)
        items = session.execute(
            select(Delivery.team_id, Delivery.channel_id, AlertItem.goal_id)
            .join(Delivery, Delivery.id == AlertItem.delivery_id)
            .where(sent, AlertItem.goal_id.in_(chunk), AlertItem.shown.is_(True))
        )
        for team, channel, goal in items:
            if goal in wanted.get((team, channel), ()):
                found[(team, channel)].add(goal)
    return found


def alert_keys_for_goals(session: Session, goal_ids: set[int]) -> set[str]:
    """Ledger keys of these goals' alerts and follow-ups in any status: the keys of their
    per-alert rows, and the `remind:` / `followup:` keys a per-alert row of each item of a
    rule run would have had (the formats of scheduler/kinds/alerts.py `reminder_key` and
    followup.py `followup_key`). A run not prepared yet has no items, and needs none here:
    it carries no goal written after its plan (docs/ledger-unit.md, section 4)."""
    wanted = sorted(goal_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), _GOAL_CHUNK):
        chunk = wanted[start : start + _GOAL_CHUNK]
        found.update(
            session.scalars(select(Delivery.dedupe_key).where(Delivery.goal_id.in_(chunk)))
        )
        rows = session.execute(
            select(
                Delivery.kind,
                Delivery.team_id,
                Delivery.channel_id,
                AlertItem.goal_id,
                AlertItem.edge,
                AlertItem.edge_on,
                AlertItem.lead,
            )
            .join(Delivery, Delivery.id == AlertItem.delivery_id)
            .where(AlertItem.goal_id.in_(chunk))
        )
        found.update(
            alert_key(team, channel, goal, edge, edge_on, lead, kind)
            for kind, team, channel, goal, edge, edge_on, lead in rows
        )
    return found


def alert_keys_taken(
    session: Session,
    channels: set[tuple[str, str]],
    keys: set[str],
    since: datetime,
    claimed: set[int],
    preparing: set[tuple[int | None, str, int]] | None = None,
) -> set[str]:
    """Of these `remind:` and `followup:` keys (alerts and follow-ups of rule runs being
    prepared in `channels`), those the ledger holds already, in any status: a per-alert
    row's key, or the key an item of another rule run of those channels' rules stands for
    (`alert_key`); not the rows of `claimed` (posted
    with the runs, in one message per channel). A key's alert falls due on one local day,
    so whoever holds it was planned at most a day or two apart: only runs written since
    `since` are read (through the rules' index, not the whole ledger). `preparing`: the
    (rule, zone, alert minute) of the runs being prepared; another run of the same rule on
    the same schedule covers another interval, so it cannot hold their keys and its items
    are not read (a channel with one rule that kept its schedule reads none)."""
    wanted = sorted(keys)
    taken: set[str] = set()
    for start in range(0, len(wanted), _GOAL_CHUNK):
        held = session.execute(
            select(Delivery.id, Delivery.dedupe_key).where(
                Delivery.dedupe_key.in_(wanted[start : start + _GOAL_CHUNK])
            )
        )
        taken.update(key for row_id, key in held if row_id not in claimed)
    pairs = sorted(channels)
    rule_ids: list[int] = []
    for start in range(0, len(pairs), _GOAL_CHUNK):
        rule_ids += session.scalars(
            select(ReminderRule.id).where(
                tuple_(ReminderRule.team_id, ReminderRule.channel_id).in_(
                    pairs[start : start + _GOAL_CHUNK]
                )
            )
        )
    runs: dict[int, tuple[str, str, str]] = {}
    for start in range(0, len(rule_ids), _GOAL_CHUNK):
        rows = session.execute(
            select(
                Delivery.id,
                Delivery.kind,
                Delivery.team_id,
                Delivery.channel_id,
                Delivery.reminder_id,
                Delivery.plan_zone,
                Delivery.plan_minute,
            ).where(
                Delivery.reminder_id.in_(rule_ids[start : start + _GOAL_CHUNK]),
                Delivery.kind.in_([KindName.REMINDER, KindName.FOLLOWUP]),
                Delivery.covers_after.is_not(None),
                Delivery.created_at >= since,
            )
        )
        runs.update(
            {
                run: (kind, team, chan)
                for run, kind, team, chan, rule, zone, minute in rows
                if run not in claimed
                and (rule, zone or "UTC", minute or 0) not in (preparing or set())
            }
        )
    for run_id, items in run_items(session, sorted(runs)).items():
        kind, team, channel = runs[run_id]
        for item in items:
            key = alert_key(team, channel, item.goal_id, item.edge, item.edge_on, item.lead, kind)
            if key in keys:
                taken.add(key)
    return taken


def alert_key(
    team: str,
    channel: str,
    goal: int,
    edge: str,
    edge_on: date,
    lead: int | None,
    kind: str = KindName.REMINDER,
) -> str:
    """The key of a per-alert row for this alert, or follow-up: the one format of
    scheduler/kinds/alerts.py `reminder_key` and followup.py `followup_key`, and of the
    rows a rule run's items stand for."""
    if kind == KindName.FOLLOWUP:
        return f"followup:{team}:{channel}:{goal}:{edge_on.isoformat()}"
    return f"remind:{team}:{channel}:{goal}:{edge}:{edge_on.isoformat()}:{lead}"


def runs_with_items(session: Session, run_ids: Sequence[int]) -> set[int]:
    """Of these rule runs, those whose items were fixed already."""
    found: set[int] = set()
    for start in range(0, len(run_ids), _GOAL_CHUNK):
        found.update(
            session.scalars(
                select(AlertItem.delivery_id)
                .where(AlertItem.delivery_id.in_(run_ids[start : start + _GOAL_CHUNK]))
                .distinct()
            )
        )
    return found


@dataclass(frozen=True)
class RunItem:
    """An alert (or follow-up) a rule run carries, as fixed before its first post."""

    run_id: int
    goal_id: int
    edge: str
    edge_on: date
    lead: int | None
    shown: bool


def run_items(session: Session, run_ids: Sequence[int]) -> dict[int, list[RunItem]]:
    """The items of these runs (those whose goal still exists), by run, in goal order."""
    found: dict[int, list[RunItem]] = {run_id: [] for run_id in run_ids}
    wanted = sorted(run_ids)
    for start in range(0, len(wanted), _GOAL_CHUNK):
        rows = session.execute(
            select(
                AlertItem.delivery_id,
                AlertItem.goal_id,
                AlertItem.edge,
                AlertItem.edge_on,
                AlertItem.lead,
                AlertItem.shown,
            )
            .where(AlertItem.delivery_id.in_(wanted[start : start + _GOAL_CHUNK]))
            .order_by(AlertItem.delivery_id, AlertItem.goal_id, AlertItem.edge)
        )
        for row in rows:
            found[row[0]].append(RunItem(*row))
    return found


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
