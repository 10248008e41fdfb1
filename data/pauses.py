"""Pause and resume a team's or a channel's deliveries (uninstall, reinstall, errors)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .models import Delivery, DeliveryStatus, ReminderRule, Subscription

# Pauses for lost access to a workspace (uninstalled, token revoked or rejected) start with
# this; installing the app again lifts all of them. Channel problems are lifted per channel.
ACCESS_LOST = "workspace access lost"
UNINSTALLED = f"{ACCESS_LOST}: the app was uninstalled"


def _team_rows(session: Session, team_id: str) -> list[Subscription | ReminderRule]:
    subscriptions = session.scalars(select(Subscription).where(Subscription.team_id == team_id))
    rules = session.scalars(select(ReminderRule).where(ReminderRule.team_id == team_id))
    return [*subscriptions, *rules]


def pause_team(session: Session, team_id: str, reason: str, now: datetime) -> list[str]:
    paused = []
    for row in _team_rows(session, team_id):
        if row.paused_reason is None:
            row.paused_reason = reason[:200]
            row.paused_at = now
            paused.append(row.ref)
    return paused


def resume_team(session: Session, team_id: str) -> list[str]:
    """Resume what lost access to the workspace paused (a lost channel stays paused)."""
    resumed = []
    for row in _team_rows(session, team_id):
        if (row.paused_reason or "").startswith(ACCESS_LOST):
            row.paused_reason = None
            row.paused_at = None
            resumed.append(row.ref)
    return resumed


def drop_undelivered(
    session: Session, *, subscriptions: Collection[int] = (), rules: Collection[int] = ()
) -> None:
    """What removed subscriptions or reminder rules had planned and not sent, including rows
    a worker still holds, is never posted."""
    session.execute(
        update(Delivery)
        .where(
            or_(
                Delivery.subscription_id.in_(list(subscriptions)),
                Delivery.reminder_id.in_(list(rules)),
            ),
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)),
        )
        .values(status=DeliveryStatus.DROPPED)
    )
