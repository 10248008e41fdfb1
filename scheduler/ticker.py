"""One scheduler tick: plan what is due, claim it, post it, record the outcome.

Posting fans out over channels with a bounded thread pool, so one slow or throttled channel
does not hold up the others; within a channel, posts go one after another.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from threading import Lock
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from policybot.data.backends import backend_for
from policybot.data.db import SessionFactory
from policybot.data.models import Brief, BriefKind, Goal, ReminderRule, Subscription
from policybot.data.pauses import ACCESS_LOST
from policybot.data.views import BriefView, brief_view, goal_view
from policybot.scheduler import ledger
from policybot.scheduler.messages import (
    Alert,
    AlertBatch,
    DeliveryError,
    Digest,
    FailureKind,
    FollowUp,
    Notice,
    Poster,
)
from policybot.scheduler.reminders import plan_reminders

log = logging.getLogger(__name__)

DIGEST_CHUNK = 10  # briefs per message: ~21 blocks, well inside Slack's 50
ALERT_CHUNK = 10
CLAIM_BATCH = 500
TICK_BUDGET_SECONDS = 45.0  # under the 60 s interval, so ticks do not pile up
UTC_ZONE = ZoneInfo("UTC")
LEADER_LOCK_KEY = 0x706F6C6963790001  # "policy" + 1: the PostgreSQL advisory lock of the ticker


@dataclass(frozen=True)
class ClaimedItem:
    id: int
    kind: str  # digest, reminder, newly, followup
    team_id: str
    channel_id: str
    subscription_id: int | None
    brief_id: int | None
    goal_id: int | None
    edge: str | None
    lead_days: int | None
    attempts: int
    uncertain_since: datetime | None = None
    reminder_id: int | None = None

    @classmethod
    def of(cls, claim: ledger.Claim) -> ClaimedItem:
        row = claim.row
        return cls(
            row.id,
            row.kind,
            row.team_id,
            row.channel_id,
            row.subscription_id,
            row.brief_id,
            row.goal_id,
            row.edge,
            row.lead_days,
            row.attempts,
            claim.uncertain_since,
            row.reminder_id,
        )


@dataclass
class TickReport:
    leader: bool = True
    planned: int = 0
    claimed: int = 0
    messages: int = 0
    sent: int = 0
    retried: int = 0
    recovered: int = 0  # found already posted by a worker that died before recording it
    paused: list[str] = field(default_factory=list)
    _lock: Lock = field(default_factory=Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class Ticker:
    def __init__(
        self,
        sessions: SessionFactory,
        poster: Poster,
        *,
        worker_id: str | None = None,
        max_workers: int = 8,
        leader_lock: bool = True,
    ) -> None:
        self.sessions = sessions
        self.poster = poster
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        self.max_workers = max_workers
        self.leader_lock = leader_lock

    def tick(self, now: datetime) -> TickReport:
        report = TickReport()
        with self._leadership() as leader:
            if not leader:
                report.leader = False
                return report
            with self.sessions() as session, session.begin():
                report.planned = ledger.plan_digests(session, now)
            with self.sessions() as session, session.begin():
                report.planned += plan_reminders(session, now)
            # Keep claiming while a batch came back full, within a time budget, so a large
            # fan-out finishes in one tick instead of 500 rows a minute.
            started = time.monotonic()
            while True:
                with self.sessions() as session, session.begin():
                    claims = ledger.claim_due(session, now, self.worker_id, CLAIM_BATCH)
                    claimed = [ClaimedItem.of(c) for c in claims]
                report.add(claimed=len(claimed))
                self._deliver(claimed, now, report)
                if len(claimed) < CLAIM_BATCH or time.monotonic() - started > TICK_BUDGET_SECONDS:
                    break
        return report

    def _deliver(self, claimed: list[ClaimedItem], now: datetime, report: TickReport) -> None:
        by_channel: dict[tuple[str, str], list[ClaimedItem]] = defaultdict(list)
        for item in claimed:
            by_channel[(item.team_id, item.channel_id)].append(item)
        if len(by_channel) <= 1 or self.max_workers <= 1:
            for (team, channel), items in by_channel.items():
                self._deliver_channel(team, channel, items, now, report)
            return
        with ThreadPoolExecutor(min(self.max_workers, len(by_channel))) as pool:
            futures = [
                pool.submit(self._deliver_channel, team, channel, items, now, report)
                for (team, channel), items in by_channel.items()
            ]
            for future in futures:
                future.result()

    @contextmanager
    def _leadership(self) -> Iterator[bool]:
        """On PostgreSQL one ticker acts at a time (advisory lock); the ledger would make a
        second one harmless anyway. SQLite deployments run one process."""
        engine = self.sessions.kw.get("bind")
        if not self.leader_lock or not isinstance(engine, Engine):
            yield True
            return
        with backend_for(engine).leader_lock(engine, LEADER_LOCK_KEY) as leader:
            yield leader

    # -- one channel -------------------------------------------------------------------
    def _deliver_channel(
        self, team: str, channel: str, items: list[ClaimedItem], now: datetime, report: TickReport
    ) -> None:
        items = self._recover(team, channel, items, now, report)
        digests: dict[int | None, list[ClaimedItem]] = defaultdict(list)
        for item in items:
            if item.kind == "digest":
                digests[item.subscription_id].append(item)
        jobs: list[tuple[list[ClaimedItem], Callable[[], bool]]] = [
            (
                sub_items,
                partial(self._deliver_digest, team, channel, sub_id, sub_items, now, report),
            )
            for sub_id, sub_items in digests.items()
        ]
        alerts = [i for i in items if i.kind in ("reminder", "newly")]
        if alerts:
            jobs.append((alerts, partial(self._deliver_alerts, team, channel, alerts, now, report)))
        for followup in (i for i in items if i.kind == "followup"):
            jobs.append(
                ([followup], partial(self._deliver_followup, team, channel, followup, now, report))
            )
        for job_items, job in jobs:
            try:
                channel_failed = job()
            except Exception:
                # Unknown whether a post went out: the rows stay claimed, and after their lease
                # the channel's history decides (find_posted) rather than posting blindly.
                log.exception(
                    "delivery to %s failed unexpectedly",
                    channel,
                    extra={"delivery_ids": [i.id for i in job_items]},
                )
                channel_failed = False
            if channel_failed:
                return

    def _recover(
        self, team: str, channel: str, items: list[ClaimedItem], now: datetime, report: TickReport
    ) -> list[ClaimedItem]:
        """Rows a vanished worker held may have been posted before it died: ask the channel's
        history (messages carry their ledger ids) and record those as sent, not post again."""
        uncertain = [i for i in items if i.uncertain_since is not None]
        if not uncertain:
            return items
        since = min(i.uncertain_since for i in uncertain if i.uncertain_since)
        found = self.poster.find_posted(team, channel, since, {i.id for i in uncertain})
        if found:
            self._mark_sent(sorted(found), now, "recovered")
            report.add(recovered=len(found))
            log.info(
                "recovered %s item(s) already posted to %s",
                len(found),
                channel,
                extra={"delivery_ids": sorted(found), "channel": channel},
            )
        return [i for i in items if i.id not in found]

    def _deliver_alerts(
        self, team: str, channel: str, items: list[ClaimedItem], now: datetime, report: TickReport
    ) -> bool:
        with self.sessions() as session:
            goals = {
                g.id: g
                for g in session.scalars(
                    select(Goal).where(Goal.id.in_([i.goal_id for i in items]))
                )
            }
            zones = self._rule_zones(session, items)
            alerts = []
            delivered: list[list[int]] = []
            for item in sorted(items, key=lambda i: (i.kind != "newly", i.goal_id or 0)):
                goal = goals.get(item.goal_id or -1)
                if goal is None:
                    self._mark_sent([item.id], now, "gone")
                    continue
                # Days left count in the channel's zone, as the alert's schedule does.
                today = now.astimezone(zones.get(item.reminder_id, UTC_ZONE)).date()
                view = goal_view(goal, today)
                if item.edge == "opens" and goal.window_start:
                    # Before a window opens, count the days to the opening.
                    view = replace(view, days_left=(goal.window_start - today).days)
                alerts.append(
                    Alert(
                        view,
                        brief_view(goal.brief, today),
                        item.edge or "due",
                        item.lead_days,
                        item.kind == "newly",
                    )
                )
                delivered.append([item.id])
        chunks = [
            list(range(i, min(i + ALERT_CHUNK, len(alerts))))
            for i in range(0, len(alerts), ALERT_CHUNK)
        ]
        for index, chunk in enumerate(chunks):
            ids = [delivered[i][0] for i in chunk]
            message = AlertBatch(
                tuple(alerts[i] for i in chunk), index + 1, len(chunks), tuple(ids)
            )
            try:
                ts = self.poster.post(team, channel, message)
            except DeliveryError as error:
                remaining = [delivered[i][0] for c in chunks[index:] for i in c]
                return self._failed(error, team, channel, None, None, remaining, items, now, report)
            self._mark_sent(ids, now, ts)
            report.add(messages=1, sent=len(ids))
        return False

    @staticmethod
    def _rule_zones(session: Session, items: list[ClaimedItem]) -> dict[int | None, ZoneInfo]:
        ids = {i.reminder_id for i in items if i.reminder_id is not None}
        if not ids:
            return {}
        rules = session.execute(
            select(ReminderRule.id, ReminderRule.timezone).where(ReminderRule.id.in_(ids))
        )
        return {rule_id: ZoneInfo(zone) for rule_id, zone in rules}

    def _deliver_followup(
        self, team: str, channel: str, item: ClaimedItem, now: datetime, report: TickReport
    ) -> bool:
        with self.sessions() as session:
            goal = session.get(Goal, item.goal_id) if item.goal_id else None
            if goal is None:
                self._mark_sent([item.id], now, "gone")
                return False
            today = now.astimezone(
                self._rule_zones(session, [item]).get(item.reminder_id, UTC_ZONE)
            ).date()
            message = FollowUp(goal_view(goal, today), brief_view(goal.brief, today), (item.id,))
        try:
            ts = self.poster.post(team, channel, message)
        except DeliveryError as error:
            return self._failed(error, team, channel, None, None, [item.id], [item], now, report)
        self._mark_sent([item.id], now, ts)
        report.add(messages=1, sent=1)
        return False

    def _deliver_digest(
        self,
        team: str,
        channel: str,
        subscription_id: int | None,
        items: list[ClaimedItem],
        now: datetime,
        report: TickReport,
    ) -> bool:
        """Post one subscription's digest; True when the channel itself failed."""
        with self.sessions() as session:
            subscription = session.get(Subscription, subscription_id) if subscription_id else None
            views = self._views(session, [i.brief_id for i in items if i.brief_id], now)
            query_text = subscription.query_text if subscription else ""
            ref = subscription.ref if subscription else "s?"
            owner = subscription.created_by if subscription else None
        by_brief = {i.brief_id: i for i in items}
        missing = [i.id for i in items if i.brief_id not in {int(v.ref[1:]) for v in views}]
        if missing:  # the brief was deleted after planning: nothing to post
            self._mark_sent(missing, now, "gone")
        chunks = [views[i : i + DIGEST_CHUNK] for i in range(0, len(views), DIGEST_CHUNK)]
        for index, chunk in enumerate(chunks):
            ids = [by_brief[int(v.ref[1:])].id for v in chunk]
            digest = Digest(ref, query_text, tuple(chunk), index + 1, len(chunks), tuple(ids))
            try:
                ts = self.poster.post(team, channel, digest)
            except DeliveryError as error:
                remaining = [by_brief[int(v.ref[1:])].id for c in chunks[index:] for v in c]
                return self._failed(
                    error, team, channel, subscription_id, owner, remaining, items, now, report
                )
            self._mark_sent(ids, now, ts)
            report.add(messages=1, sent=len(ids))
        return False

    def _failed(
        self,
        error: DeliveryError,
        team: str,
        channel: str,
        subscription_id: int | None,
        owner: str | None,
        remaining: list[int],
        items: list[ClaimedItem],
        now: datetime,
        report: TickReport,
    ) -> bool:
        if error.kind is FailureKind.RETRY:
            self._retry(remaining, max(i.attempts for i in items), now, error.code)
            report.add(retried=len(remaining))
            return False
        reason = f"{error.reason} ({error.code})"
        if error.kind is FailureKind.AUTH:
            reason = f"{ACCESS_LOST}: {reason}"  # lifted by a reinstall (resume_team)
        with self.sessions() as session, session.begin():
            ledger.release_paused(session, remaining, self.worker_id, error.code)
            paused = self._pause(session, team, channel, subscription_id, error, reason, now)
        report.paused.extend(paused)
        log.warning("paused %s in %s: %s", ", ".join(paused) or "nothing", channel, error.code)
        if owner and error.kind is FailureKind.CHANNEL:
            self._tell_owner(team, owner, channel, paused, reason)
        return True

    def _pause(
        self,
        session: Session,
        team: str,
        channel: str,
        subscription_id: int | None,
        error: DeliveryError,
        reason: str,
        now: datetime,
    ) -> list[str]:
        query = select(Subscription).where(
            Subscription.team_id == team, Subscription.paused_reason.is_(None)
        )
        if error.kind is FailureKind.CHANNEL:
            query = query.where(Subscription.channel_id == channel)
        rules = select(ReminderRule).where(
            ReminderRule.team_id == team, ReminderRule.paused_reason.is_(None)
        )
        if error.kind is FailureKind.CHANNEL:
            rules = rules.where(ReminderRule.channel_id == channel)
        paused = []
        for row in [*session.scalars(query), *session.scalars(rules)]:
            row.paused_reason = reason[:200]
            row.paused_at = now
            paused.append(row.ref)
        return paused

    def _tell_owner(
        self, team: str, owner: str, channel: str, paused: list[str], reason: str
    ) -> None:
        text = (
            f"I paused {', '.join(paused)} for channel {channel}: {reason}. Invite me to the channel "
            "(or pick another) and subscribe again to resume; nothing was lost."
        )
        try:
            self.poster.post(team, owner, Notice(text))
        except DeliveryError as error:
            log.warning("could not tell %s about the pause: %s", owner, error.code)

    def _views(self, session: Session, brief_ids: list[int], now: datetime) -> list[BriefView]:
        briefs = list(session.scalars(select(Brief).where(Brief.id.in_(brief_ids))))
        # Newest policy briefs first, then news, newest first.
        briefs.sort(
            key=lambda b: (
                b.kind != BriefKind.POLICY,
                -(b.published_on.toordinal() if b.published_on else 0),
                -b.id,
            )
        )
        return [brief_view(b, now.date()) for b in briefs]

    def _mark_sent(self, ids: list[int], now: datetime, ts: str) -> None:
        with self.sessions() as session, session.begin():
            ledger.mark_sent(session, ids, self.worker_id, now, ts)
        log.info("delivered %s item(s) as %s", len(ids), ts, extra={"delivery_ids": ids})

    def _retry(self, ids: list[int], attempts: int, now: datetime, error: str) -> None:
        with self.sessions() as session, session.begin():
            ledger.release_for_retry(session, ids, self.worker_id, attempts, now, error)
