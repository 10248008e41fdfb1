"""A channel's digest subscriptions and its settings: found by channel, by words, by id."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import ChannelSettings, Subscription


def channel_subscriptions(session: Session, team_id: str, channel_id: str) -> list[Subscription]:
    """The channel's subscriptions, oldest first."""
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.team_id == team_id, Subscription.channel_id == channel_id)
            .order_by(Subscription.id)
        )
    )


def subscription_for_words(
    session: Session, team_id: str, channel_id: str, query_text: str, *, other_than: int = 0
) -> Subscription | None:
    """The channel's subscription to exactly these (described) words, other than one id."""
    return session.scalar(
        select(Subscription).where(
            Subscription.team_id == team_id,
            Subscription.channel_id == channel_id,
            Subscription.query_text == query_text,
            Subscription.id != other_than,
        )
    )


def team_subscription(
    session: Session, team_id: str, subscription_id: int, *, channel_id: str | None = None
) -> Subscription | None:
    """The workspace's subscription with this id (in this channel, if one is named)."""
    statement = select(Subscription).where(
        Subscription.id == subscription_id, Subscription.team_id == team_id
    )
    if channel_id is not None:
        statement = statement.where(Subscription.channel_id == channel_id)
    return session.scalar(statement)


def user_subscriptions(
    session: Session, team_id: str, user_id: str, *, limit: int
) -> tuple[list[Subscription], int]:
    """The first `limit` subscriptions a user made in the workspace, and how many in all."""
    mine = (Subscription.team_id == team_id, Subscription.created_by == user_id)
    total = session.scalar(select(func.count()).select_from(Subscription).where(*mine)) or 0
    rows = session.scalars(select(Subscription).where(*mine).order_by(Subscription.id).limit(limit))
    return list(rows), total


def channel_settings(session: Session, team_id: str, channel_id: str) -> ChannelSettings | None:
    return session.scalar(
        select(ChannelSettings).where(
            ChannelSettings.team_id == team_id, ChannelSettings.channel_id == channel_id
        )
    )
