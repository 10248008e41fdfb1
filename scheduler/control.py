"""Pause and resume a team's or a channel's deliveries (uninstall, reinstall, errors)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import ReminderRule, Subscription


def pause_team(session: Session, team_id: str, reason: str, now: datetime) -> list[str]:
    paused = []
    for model in (Subscription, ReminderRule):
        rows = session.scalars(
            select(model).where(model.team_id == team_id, model.paused_reason.is_(None))
        )
        for row in rows:
            row.paused_reason = reason[:200]
            row.paused_at = now
            paused.append(row.ref)
    return paused


def resume_team(session: Session, team_id: str, reason: str) -> list[str]:
    """Resume what was paused for `reason` (other pauses, e.g. a lost channel, stay)."""
    resumed = []
    for model in (Subscription, ReminderRule):
        rows = session.scalars(
            select(model).where(model.team_id == team_id, model.paused_reason == reason[:200])
        )
        for row in rows:
            row.paused_reason = None
            row.paused_at = None
            resumed.append(row.ref)
    return resumed
