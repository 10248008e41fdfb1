"""One scheduler tick: plan what is due, claim it, post it, record the outcome.

Each delivery kind makes an Outcome of a batch of claimed rows (the message, the rows it
posts, folds or finds gone); the ticker alone posts, records, and applies the failure
policy (retry, hold as uncertain, pause). Posting fans out over channels with a bounded
thread pool, so one slow or throttled channel does not hold up the others; within a
channel, posts go one after another.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ..data.backends import backend_for
from ..data.db import SessionFactory, rehearsal, unit_of_work
from ..data.models import ReminderRule, Subscription
from ..data.pauses import ACCESS_LOST
from . import faults, ledger
from .delivery import ClaimedItem, DeliveryKind, Outcome, Prepare, TickReport
from .memory import release_freed
from .messages import DeliveryError, FailureKind, Notice, Poster
from .registry import BY_NAME, KINDS, OWNERS, PLANNERS

log = logging.getLogger(__name__)

CLAIM_BATCH = 500
TICK_BUDGET_SECONDS = 45.0  # under the 60 s interval, so ticks do not pile up
LEADER_LOCK_KEY = 0x706F6C6963790001  # "policy" + 1: the PostgreSQL advisory lock of the ticker
_ORDER = {kind.name: position for position, kind in enumerate(KINDS)}
# A post that may have gone out is looked up in the channel's history this long after.
UNCERTAIN_RECHECK = timedelta(seconds=30)


@dataclass(frozen=True)
class ChannelStop:
    """The channel takes nothing more this tick: its untried rows wait `wait` (None: until
    the next tick, or until a paused owner is resumed)."""

    wait: timedelta | None
    code: str


class Ticker:
    def __init__(
        self,
        sessions: SessionFactory,
        poster: Poster,
        *,
        worker_id: str | None = None,
        max_workers: int = 8,
        leader_lock: bool = True,
        only_team: str | None = None,
        claim_batch: int = CLAIM_BATCH,
    ) -> None:
        self.sessions = sessions
        self.poster = faults.watched(poster)  # the poster itself unless a test armed a point
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        self.max_workers = max_workers
        self.leader_lock = leader_lock
        # A poster that reaches one workspace only (the console) claims only its rows.
        self.only_team = only_team
        self.claim_batch = claim_batch  # rows a claim starts from (tests lower it)
        self._stopping = threading.Event()
        # Told whether this tick leads as soon as it knows (what /readyz reports meanwhile).
        self.on_leadership: Callable[[bool], None] | None = None

    def stop(self) -> None:
        """Finish the posts in flight, claim nothing more, hand untried rows back (SIGTERM)."""
        self._stopping.set()

    def tick(self, now: datetime) -> TickReport:
        report = TickReport()
        with self._leadership() as leader:
            if self.on_leadership is not None:
                self.on_leadership(leader)
            if not leader:
                report.leader = False
                return report
            for plan in PLANNERS:
                with unit_of_work(self.sessions) as session:
                    report.planned += plan(session, now)
            if report.planned:
                release_freed()  # an idle tick freed nothing worth handing back
            # Keep claiming while a batch came back full, within a time budget, so a large
            # fan-out finishes in one tick instead of 500 rows a minute.
            started = time.monotonic()
            while not self._stopping.is_set():
                with unit_of_work(self.sessions) as session:
                    claimed = ledger.claim_due(
                        session, now, self.worker_id, OWNERS, self.claim_batch, self.only_team
                    )
                if faults.ARMED:
                    faults.reach("after_claim")
                report.add(claimed=len(claimed))
                prepared = self._prepare(claimed, now)
                if claimed:
                    release_freed()  # what preparing freed (a search index built and dropped)
                self._deliver(prepared, now, report)
                if claimed:
                    release_freed()  # what this claim freed, before the next one allocates
                if (
                    len(claimed) < self.claim_batch
                    or time.monotonic() - started > TICK_BUDGET_SECONDS
                ):
                    break
        return report

    def _prepare(self, claimed: list[ClaimedItem], now: datetime) -> list[ClaimedItem]:
        """Each kind's step before posting (a rule run's alerts fixed into its items), once
        per claim, in one write transaction; `deliver` then only reads. When a step fails it
        is tried again channel by channel, so one bad row holds back only its channel; the
        rule runs of a channel whose step failed are not delivered now: they stay claimed,
        and after their lease the channel's history decides, as after a crash (a run posted
        earlier is not posted again)."""
        steps: dict[Prepare, list[ClaimedItem]] = defaultdict(list)
        for item in claimed:
            step = BY_NAME[item.kind].prepare
            if step is not None:
                steps[step].append(item)
        failed: set[int] = set()
        for step, items in steps.items():
            if self._step(step, items, now):
                continue
            by_channel: dict[tuple[str, str], list[ClaimedItem]] = defaultdict(list)
            for item in items:
                by_channel[(item.team_id, item.channel_id)].append(item)
            for channel_items in by_channel.values():
                if len(by_channel) == 1 or not self._step(step, channel_items, now):
                    failed.update(i.id for i in channel_items if i.is_run)
        return [i for i in claimed if i.id not in failed] if failed else claimed

    def _step(self, step: Prepare, items: list[ClaimedItem], now: datetime) -> bool:
        try:
            with unit_of_work(self.sessions) as session:
                step(session, items, now)
        except Exception:
            runs = [i.id for i in items if i.is_run]
            log.exception("could not prepare %s run(s)", len(runs), extra={"delivery_ids": runs})
            return False
        return True

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
        batches: dict[Hashable, list[ClaimedItem]] = defaultdict(list)
        for item in sorted(items, key=lambda i: (_ORDER[i.kind], i.id)):
            batches[BY_NAME[item.kind].batch_key(item)].append(item)
        jobs = list(batches.values())
        for position, batch in enumerate(jobs):
            if self._stopping.is_set():
                # Shutting down: what was claimed and not yet tried goes back untouched.
                self._release_untried(jobs[position:], now, None, "shutting down")
                return
            kind = BY_NAME[batch[0].kind]
            try:
                stop = self._deliver_batch(kind, team, channel, batch, now, report)
            except Exception:
                # Unknown whether a post went out: the rows stay claimed, and after their lease
                # the channel's history decides (find_posted) rather than posting blindly.
                log.exception(
                    "delivery to %s failed unexpectedly",
                    channel,
                    extra={"delivery_ids": [i.id for i in batch]},
                )
                stop = None
            if stop is not None:
                # The channel cannot take more now (rate limited, paused): its other batches
                # wait too, instead of being tried one after another.
                self._release_untried(jobs[position + 1 :], now, stop.wait, stop.code)
                return

    def _release_untried(
        self,
        jobs: list[list[ClaimedItem]],
        now: datetime,
        wait: timedelta | None,
        why: str,
    ) -> None:
        ids = [item.id for batch in jobs for item in batch]
        if not ids:
            return
        with unit_of_work(self.sessions) as session:
            ledger.release_for_retry(
                session, ids, self.worker_id, 0, now, why, wait=wait or timedelta(0)
            )

    def _recover(
        self, team: str, channel: str, items: list[ClaimedItem], now: datetime, report: TickReport
    ) -> list[ClaimedItem]:
        """Rows whose post may have gone out (a worker died, or a post timed out, before it
        was recorded): ask the channel's history (messages carry their ledger ids) and
        record those as sent, not post again. When the history cannot be read right now,
        those rows keep waiting, uncertain, rather than being posted blind."""
        uncertain = [i for i in items if i.uncertain_since is not None]
        if not uncertain:
            return items
        since = min(i.uncertain_since for i in uncertain if i.uncertain_since)
        try:
            found = self.poster.find_posted(team, channel, since, {i.id for i in uncertain})
        except DeliveryError as error:
            wait = timedelta(seconds=error.retry_after or UNCERTAIN_RECHECK.total_seconds())
            with unit_of_work(self.sessions) as session:
                ledger.hold_uncertain(
                    session,
                    [i.id for i in uncertain],
                    self.worker_id,
                    now,
                    max(wait, UNCERTAIN_RECHECK),
                )
            log.warning(
                "could not read %s's history yet (%s); will look again", channel, error.code
            )
            return [i for i in items if i.uncertain_since is None]
        if found:
            self.mark_sent(sorted(found), now, "recovered")
            report.add(recovered=len(found))
            log.info(
                "recovered %s item(s) already posted to %s",
                len(found),
                channel,
                extra={"delivery_ids": sorted(found), "channel": channel},
            )
        return [i for i in items if i.id not in found]

    def _deliver_batch(
        self,
        kind: DeliveryKind,
        team: str,
        channel: str,
        batch: list[ClaimedItem],
        now: datetime,
        report: TickReport,
    ) -> ChannelStop | None:
        """Post what the kind makes of the batch and record it; a ChannelStop when the
        channel's other batches must wait."""
        with unit_of_work(self.sessions, read_only=True) as session:
            outcome = kind.deliver(session, team, channel, batch, now)
        if outcome.folded:
            self._fold(list(outcome.folded))
        if outcome.gone:  # deleted after planning: nothing to post for them
            self.mark_sent(list(outcome.gone), now, "gone")
        if outcome.message is None:
            return None
        ids = list(outcome.posted)
        try:
            ts = self.poster.post(team, channel, outcome.message)
        except DeliveryError as error:
            return self._failed(error, team, channel, outcome, batch, now, report)
        self.mark_sent(ids, now, ts)
        report.add(messages=1, sent=len(ids))
        return None

    def _failed(
        self,
        error: DeliveryError,
        team: str,
        channel: str,
        outcome: Outcome,
        batch: list[ClaimedItem],
        now: datetime,
        report: TickReport,
    ) -> ChannelStop | None:
        """The post of the outcome's message failed: its rows are retried later, held as
        uncertain, or wait for their paused owner."""
        ids = list(outcome.posted)
        if error.kind is FailureKind.UNCERTAIN:
            # It may have been posted: look in the channel's history before posting again.
            with unit_of_work(self.sessions) as session:
                ledger.hold_uncertain(session, ids, self.worker_id, now, UNCERTAIN_RECHECK)
            report.add(retried=len(ids))
            log.warning(
                "post to %s timed out (%s); its history decides before any retry",
                channel,
                error.code,
                extra={"delivery_ids": ids},
            )
            return ChannelStop(UNCERTAIN_RECHECK, error.code)
        if error.kind is FailureKind.RETRY:
            wait = timedelta(seconds=error.retry_after) if error.retry_after is not None else None
            attempts = max(i.attempts for i in batch)
            with unit_of_work(self.sessions) as session:
                ledger.release_for_retry(
                    session, ids, self.worker_id, attempts, now, error.code, wait
                )
            report.add(retried=len(ids))
            # Rate limited: the channel's other batches wait as long; a 5xx or network
            # failure: they are still tried (another post may well go through).
            return ChannelStop(wait, error.code) if wait is not None else None
        reason = f"{error.reason} ({error.code})"
        if error.kind is FailureKind.AUTH:
            reason = f"{ACCESS_LOST}: {reason}"  # lifted by a reinstall (resume_team)
        with unit_of_work(self.sessions) as session:
            ledger.release_paused(session, ids, self.worker_id, error.code)
            paused = self._pause(session, team, channel, error, reason, now)
        report.paused.extend(paused)
        log.warning("paused %s in %s: %s", ", ".join(paused) or "nothing", channel, error.code)
        if outcome.owner and error.kind is FailureKind.CHANNEL:
            self._tell_owner(team, outcome.owner, channel, paused, reason)
        return ChannelStop(None, error.code)

    def _pause(
        self,
        session: Session,
        team: str,
        channel: str,
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

    def _fold(self, ids: list[int]) -> None:
        with unit_of_work(self.sessions) as session:
            ledger.fold(session, ids, self.worker_id)
        log.info("folded %s repeated alert(s)", len(ids), extra={"delivery_ids": ids})

    def mark_sent(self, ids: list[int], now: datetime, ts: str) -> None:
        with unit_of_work(self.sessions) as session:
            ledger.mark_sent(session, ids, self.worker_id, now, ts)
        if faults.ARMED:
            faults.reach("after_mark")
        log.info("delivered %s item(s) as %s", len(ids), ts, extra={"delivery_ids": ids})


def dry_run(engine: Engine, poster: Poster, now: datetime) -> TickReport:
    """What a tick at `now` would post, handed to `poster`, with nothing recorded: the whole
    tick runs in one transaction that is rolled back (ledger rows, marks and all)."""
    with rehearsal(engine) as sessions:
        return Ticker(sessions, poster, worker_id="dry-run", max_workers=1).tick(now)
