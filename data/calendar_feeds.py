"""Calendar feeds (a channel's ICS subscription at a secret URL) and this installation's id.

A feed's token is shown once, when the feed is made; the database keeps only its SHA-256
hash, so a copy of the database does not give anyone a working URL. A token is looked up by
its hash and the stored hash compared again in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import CalendarFeed, Installation

TOKEN_BYTES = 32  # 256 bits of randomness: 43 URL-safe characters
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
UID_SUFFIX = "policybot"
MAX_FEEDS_PER_CHANNEL = 20


def installation_identity(session: Session) -> str:
    """The random id this database was given once (migration 0018); given one now if a
    database was made without migrations."""
    identity = session.scalar(select(Installation.identity).where(Installation.id == 1))
    if identity is None:
        identity = uuid.uuid4().hex
        session.add(Installation(id=1, identity=identity))
        session.flush()
    return identity


def uid_domain(session: Session) -> str:
    """What follows the `@` of this installation's calendar UIDs: `<id>.policybot`."""
    return f"{installation_identity(session)}.{UID_SUFFIX}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def create_feed(
    session: Session, team_id: str, channel_id: str, user_id: str, query_text: str, now: datetime
) -> tuple[CalendarFeed, str]:
    """A new feed and its token (returned once, never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed(
        team_id=team_id,
        channel_id=channel_id,
        created_by=user_id,
        query_text=query_text,
        token_hash=hash_token(token),
        created_at=now,
    )
    session.add(feed)
    session.flush()
    return feed, token


def feed_for_token(session: Session, token: str) -> CalendarFeed | None:
    """The live feed this token opens, else None (malformed, unknown or revoked)."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    wanted = hash_token(token)
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == wanted))
    if feed is None or not hmac.compare_digest(feed.token_hash, wanted):
        return None
    return feed if feed.revoked_at is None else None


def channel_feeds(session: Session, team_id: str, channel_id: str) -> list[CalendarFeed]:
    """The channel's live feeds, oldest first."""
    return list(
        session.scalars(
            select(CalendarFeed)
            .where(
                CalendarFeed.team_id == team_id,
                CalendarFeed.channel_id == channel_id,
                CalendarFeed.revoked_at.is_(None),
            )
            .order_by(CalendarFeed.id)
        )
    )


def revoke_feeds(
    session: Session, team_id: str, channel_id: str, now: datetime, feed_id: int | None = None
) -> list[CalendarFeed]:
    """Revoke one of the channel's live feeds (or all of them); the ones revoked."""
    feeds = [f for f in channel_feeds(session, team_id, channel_id) if feed_id in (None, f.id)]
    for feed in feeds:
        feed.revoked_at = now
    session.flush()
    return feeds
