"""Prometheus metrics: commands served and their latency, posts and retries, and gauges read
from the database at scrape time (paused subscriptions, due reminders)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from ..data.db import SessionFactory, unit_of_work
from ..data.models import Delivery, DeliveryStatus, ReminderRule, Subscription
from ..handlers.context import Clock
from ..scheduler.messages import DeliveryError, FailureKind, Outgoing, Poster
from ..scheduler.registry import REMINDER_KINDS


class _DatabaseGauges(Collector):
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now: datetime = self.clock()
        with unit_of_work(self.sessions, read_only=True) as session:
            paused = sum(
                session.scalar(
                    select(func.count()).select_from(model).where(model.paused_reason.is_not(None))
                )
                or 0
                for model in (Subscription, ReminderRule)
            )
            due = session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.status == DeliveryStatus.PENDING,
                    Delivery.kind.in_(REMINDER_KINDS),
                    Delivery.next_attempt_at <= now,
                )
            )
        yield GaugeMetricFamily(
            "policybot_paused_subscriptions",
            "Subscriptions and reminder rules paused",
            value=paused,
        )
        yield GaugeMetricFamily(
            "policybot_due_reminders",
            # A rule run (docs/ledger-unit.md) is one row for all of a rule's alerts or
            # follow-ups of one plan interval: this counts ledger rows, not single alerts.
            "Reminder ledger rows due and not yet sent (deadline alerts, follow-ups; a rule"
            " run counts once for all the alerts of its interval)",
            value=due or 0,
        )


class Metrics:
    """One registry per process (and per test), not the global default."""

    def __init__(self, sessions: SessionFactory | None = None, clock: Clock | None = None) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "policybot_commands", "Commands served", ["command", "outcome"], registry=self.registry
        )
        self.latency = Histogram(
            "policybot_command_seconds",
            "Time to answer a command",
            ["command"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5),
            registry=self.registry,
        )
        self.posts = Counter(
            "policybot_posts", "Scheduled posts", ["kind", "outcome"], registry=self.registry
        )
        self.retries = Counter(
            "policybot_post_retries",
            "Scheduled posts that failed and will be retried",
            registry=self.registry,
        )
        if sessions is not None and clock is not None:
            self.registry.register(_DatabaseGauges(sessions, clock))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MeteredPoster:
    """Counts what a Poster sends and what fails."""

    def __init__(self, poster: Poster, metrics: Metrics) -> None:
        self.poster = poster
        self.metrics = metrics

    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        kind = message.label
        try:
            ts = self.poster.post(team_id, channel_id, message)
        except DeliveryError as error:
            self.metrics.posts.labels(kind, str(error.kind)).inc()
            if error.kind is FailureKind.RETRY:
                self.metrics.retries.inc()
            raise
        self.metrics.posts.labels(kind, "sent").inc()
        return ts

    def find_posted(
        self, team_id: str, channel_id: str, since: datetime, delivery_ids: set[int]
    ) -> set[int]:
        found = self.poster.find_posted(team_id, channel_id, since, delivery_ids)
        if found:
            self.metrics.posts.labels("recovered", "sent").inc(len(found))
        return found
