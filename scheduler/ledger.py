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

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from policybot.data import store
from policybot.data.backends import backend_for
from policybot.data.errors import UserError
from policybot.data.models import (
    Brief,
    ChannelSettings,
    Delivery,
    DeliveryStatus,
    ReminderRule,
    ScheduleKind,
    Subscription,
)
from policybot.data.query.compiler import BodyNames, build_filter
from policybot.data.query.language import parse_query
from policybot.data.schedules import in_quiet_hours, next_run, quiet_hours_end, schedule_of
from policybot.data.search.analysis import TermQuery
from policybot.data.search.engines import engine_for
from policybot.data.store import BriefFilter
from policybot.scheduler.delivery import Claim, Owner
from policybot.scheduler.kinds.digest import DIGEST

# A brief whose ingestion transaction was still open when a digest was planned is caught by
# the next plan: planning looks back this far behind the last horizon.
INGEST_GRACE = timedelta(minutes=10)
# A claimed row whose worker vanished (crash, SIGKILL) is claimable again after this.
CLAIM_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS_BACKOFF = timedelta(hours=1)


def plan_digests(session: Session, now: datetime) -> int:
    """Write ledger rows for every subscription that is due; returns rows planned.

    Work grows with what is due, not with history: the briefs that arrived since the
    earliest due horizon are read once, each distinct search term is tested once against
    just those briefs, and each subscription's query is then set arithmetic over them.
    """
    statement = (
        select(Subscription)
        .where(Subscription.paused_reason.is_(None), Subscription.next_due_at <= now)
        .order_by(Subscription.id)
    )
    statement = backend_for(session).lock_for_claim(statement)
    due = [s for s in session.scalars(statement).all() if not _quiet_now(session, s, now)]
    if not due:
        return 0
    rows = _DigestPlanner(session, now, due).rows()
    if rows:
        # Another scheduler may have planned the same rows a moment ago: the unique key wins.
        session.execute(
            backend_for(session).insert_ignoring_duplicates(Delivery, ["dedupe_key"]), rows
        )
    for subscription in due:
        subscription.next_due_at = next_run(schedule_of(subscription), now)  # slots coalesce
        subscription.checked_until = now
    return len(rows)


class _DigestPlanner:
    def __init__(self, session: Session, now: datetime, due: list[Subscription]) -> None:
        self.session = session
        self.now = now
        self.due = due
        self.engine = engine_for(session)
        self.names = BodyNames(session)
        self._terms: dict[TermQuery, set[int]] = {}
        self._structured: dict[BriefFilter, set[int]] = {}

    def rows(self) -> list[dict[str, object]]:
        starts = {s.id: max(s.checked_until - INGEST_GRACE, s.created_at) for s in self.due}
        arrived = dict(
            self.session.execute(
                select(Brief.id, Brief.ingested_at).where(
                    Brief.ingested_at > min(starts.values()), Brief.ingested_at <= self.now
                )
            ).all()
        )
        if not arrived:
            self._check_queries()
            return []
        self.ids = sorted(arrived)
        delivered = self._delivered()
        filters: dict[str, BriefFilter | None] = {}
        rows: list[dict[str, object]] = []
        for subscription in self.due:
            text = subscription.query_text
            if text not in filters:
                filters[text] = self._filter(subscription)
            where = filters[text]
            if where is None:
                continue
            for brief_id in sorted(self._matching(where)):
                if (
                    arrived[brief_id] > starts[subscription.id]
                    and (
                        subscription.id,
                        brief_id,
                    )
                    not in delivered
                ):
                    rows.append(self._row(subscription, brief_id))
        return rows

    def _check_queries(self) -> None:
        for subscription in self.due:
            self._filter(subscription)

    def _filter(self, subscription: Subscription) -> BriefFilter | None:
        try:
            return build_filter(self.session, parse_query(subscription.query_text), self.names)[0]
        except UserError as error:
            # The query stopped making sense (a body alias was removed): say so, keep the rest.
            subscription.paused_reason = f"its query no longer works: {error}"[:200]
            subscription.paused_at = self.now
            return None

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

    def _term(self, query: TermQuery) -> set[int]:
        if query not in self._terms:
            self._terms[query] = set(self.engine.among(self.session, [query], [], self.ids))
        return self._terms[query]

    def _matching(self, where: BriefFilter) -> set[int]:
        found = set(self.ids)
        for query in where.include:
            found &= self._term(query)
        for query in where.exclude:
            found -= self._term(query)
        rest = replace(where, include=(), exclude=())
        if rest != BriefFilter():
            if rest not in self._structured:
                self._structured[rest] = set(
                    store.matching_ids(self.session, rest, only_ids=self.ids)
                )
            found &= self._structured[rest]
        return found

    def _row(self, subscription: Subscription, brief_id: int) -> dict[str, object]:
        return {
            "dedupe_key": f"digest:{subscription.id}:{brief_id}",
            "kind": DIGEST,
            "team_id": subscription.team_id,
            "channel_id": subscription.channel_id,
            "subscription_id": subscription.id,
            "brief_id": brief_id,
            "status": DeliveryStatus.PENDING,
            "created_at": self.now,
            "next_attempt_at": self.now,
            "attempts": 0,
        }


def _quiet_now(session: Session, subscription: Subscription, now: datetime) -> bool:
    """Instant subscriptions wait for the end of the channel's quiet hours."""
    if subscription.schedule != ScheduleKind.INSTANT:
        return False
    settings = session.scalar(
        select(ChannelSettings).where(
            ChannelSettings.team_id == subscription.team_id,
            ChannelSettings.channel_id == subscription.channel_id,
        )
    )
    if settings is None or settings.quiet_start is None or settings.quiet_end is None:
        return False
    zone = ZoneInfo(settings.timezone)
    if not in_quiet_hours(now, settings.quiet_start, settings.quiet_end, zone):
        return False
    subscription.next_due_at = quiet_hours_end(now, settings.quiet_start, settings.quiet_end, zone)
    return True


def claim_due(
    session: Session,
    now: datetime,
    worker: str,
    owners: Mapping[str, Owner],
    limit: int = 500,
) -> list[Claim]:
    """Claim pending rows that are due, and claimed rows whose lease ran out, of the kinds in
    `owners` (kind name -> the column naming its owner)."""
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
    statement = select(Delivery).where(due, active).order_by(Delivery.id).limit(limit)
    statement = backend_for(session).lock_for_claim(statement)
    claims = []
    for row in session.scalars(statement):
        expired = row.status == DeliveryStatus.CLAIMED
        claims.append(Claim(row, row.claimed_at if expired else None))
        row.status = DeliveryStatus.CLAIMED
        row.claimed_by = worker
        row.claimed_at = now
        row.attempts += 1
    return claims


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
