"""A channel's reminder rules: found by channel, by words, by id, by who made them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import ReminderRule


def channel_rules(session: Session, team_id: str, channel_id: str) -> list[ReminderRule]:
    """The channel's rules, oldest first."""
    return list(
        session.scalars(
            select(ReminderRule)
            .where(ReminderRule.team_id == team_id, ReminderRule.channel_id == channel_id)
            .order_by(ReminderRule.id)
        )
    )


def rule_for_words(
    session: Session, team_id: str, channel_id: str, query_text: str, *, other_than: int = 0
) -> ReminderRule | None:
    """The channel's rule for exactly these (described) words, other than one id."""
    return session.scalar(
        select(ReminderRule).where(
            ReminderRule.team_id == team_id,
            ReminderRule.channel_id == channel_id,
            ReminderRule.query_text == query_text,
            ReminderRule.id != other_than,
        )
    )


def team_rule(session: Session, team_id: str, rule_id: int) -> ReminderRule | None:
    return session.scalar(
        select(ReminderRule).where(ReminderRule.id == rule_id, ReminderRule.team_id == team_id)
    )


def user_rules(
    session: Session, team_id: str, user_id: str, *, limit: int
) -> tuple[list[ReminderRule], int]:
    """The first `limit` rules a user made in the workspace, and how many in all."""
    mine = (ReminderRule.team_id == team_id, ReminderRule.created_by == user_id)
    total = session.scalar(select(func.count()).select_from(ReminderRule).where(*mine)) or 0
    rows = session.scalars(select(ReminderRule).where(*mine).order_by(ReminderRule.id).limit(limit))
    return list(rows), total


def user_rule_words(session: Session, team_id: str, user_id: str) -> list[str]:
    """The words of every rule a user made in the workspace."""
    return list(
        session.scalars(
            select(ReminderRule.query_text).where(
                ReminderRule.team_id == team_id, ReminderRule.created_by == user_id
            )
        )
    )
