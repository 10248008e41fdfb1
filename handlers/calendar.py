"""`deadlines calendar`: a channel's live calendar subscription, and the feed it serves.

The command makes a feed (a secret URL under POLICYBOT_PUBLIC_URL), lists the channel's
feeds or revokes them. The feed is the same iCalendar document `deadlines ics` exports,
made afresh at each fetch from the feed's saved words: calendars that poll it follow new
and changed deadlines, and the UIDs (goal id and installation id) keep each event one event.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy.orm import Session

from ..data import calendar_feeds
from ..data.calendar_feeds import MAX_FEEDS_PER_CHANNEL
from ..data.errors import UserError
from ..data.models import CalendarFeed
from .context import Context
from .export import CALENDAR_NAME, calendar_bytes, select_deadlines
from .permissions import require_channel_member
from .replies import Line, Person, Reply, Section
from .request import Request

FEED_PATH = "/calendar/{token}.ics"
_FEED_REF = re.compile(r"(?:cal)?(\d{1,9})", re.I)
HOW_TO_SUBSCRIBE = (
    "Google Calendar: Other calendars \u2192 + \u2192 From URL. Outlook: Add calendar \u2192 "
    "Subscribe from web. Calendars poll it every few hours and follow new and changed deadlines."
)
NO_PUBLIC_URL = (
    "Calendar subscriptions need the address this server is reached at: set "
    "POLICYBOT_PUBLIC_URL (such as https://policybot.example.org) where `policybot serve` "
    "runs, and restart it. Until then `/policy deadlines ics` exports a calendar file. "
    "Nothing was created."
)


def feed_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + FEED_PATH.format(token=token)


def _describe(feed: CalendarFeed) -> Line:
    words = feed.query_text or "every future deadline"
    when = f"{feed.created_at.day} {feed.created_at:%b %Y}"
    return Line((f"{feed.ref}: {words} (made {when} by ", Person(feed.created_by), ")"))


def calendar_command(request: Request) -> Reply:
    """`deadlines calendar [words]` | `off` | `revoke <id>` | `list`."""
    session, ctx, text = request.session, request.context, request.argument
    words = text.split()
    first = words[0].lower() if words else ""
    if first == "list" and len(words) == 1:
        return _list(session, ctx)
    if first == "off" and len(words) == 1:
        return _revoke(session, ctx, None)
    if first == "revoke":
        if len(words) != 2 or not (match := _FEED_REF.fullmatch(words[1])):
            raise UserError(
                "Write `/policy deadlines calendar revoke cal2` (ids are in "
                "`/policy deadlines calendar list`), or `off` for all of this channel's."
            )
        return _revoke(session, ctx, int(match.group(1)))
    return _create(session, ctx, text.strip())


def _create(session: Session, ctx: Context, query_text: str) -> Reply:
    if not ctx.public_url:
        return Reply(text=NO_PUBLIC_URL, is_error=True)
    # The words are read now, so a feed never starts from words that do not parse.
    selection = select_deadlines(session, ctx, query_text)
    require_channel_member(ctx, "add a calendar subscription to this channel")
    existing = calendar_feeds.channel_feeds(session, ctx.team_id, ctx.channel_id)
    if len(existing) >= MAX_FEEDS_PER_CHANNEL:
        raise UserError(
            f"This channel has {len(existing)} calendar subscriptions, the most it can have: "
            "revoke one first (`/policy deadlines calendar list`). Nothing was created."
        )
    feed, token = calendar_feeds.create_feed(
        session, ctx.team_id, ctx.channel_id, ctx.user_id, query_text, ctx.now
    )
    count = len(selection.due)
    noun = "deadline" if count == 1 else "deadlines"
    return Reply(
        text=f"Calendar subscription {feed.ref}{selection.about}, {count} {noun} now: "
        f"{feed_url(ctx.public_url, token)}",
        notes=[
            *selection.notes,
            HOW_TO_SUBSCRIBE,
            "Anyone with this address can read these deadlines, so it is shown only now: "
            f"keep it private. `/policy deadlines calendar revoke {feed.ref}` turns it off.",
        ],
    )


def _list(session: Session, ctx: Context) -> Reply:
    feeds = calendar_feeds.channel_feeds(session, ctx.team_id, ctx.channel_id)
    if not feeds:
        return Reply(
            text="This channel has no calendar subscriptions.",
            notes=["`/policy deadlines calendar [words]` makes one."],
        )
    noun = "subscription" if len(feeds) == 1 else "subscriptions"
    return Reply(
        text=f"This channel's calendar {noun}: {len(feeds)}",
        sections=[Section("Calendars", tuple(_describe(f) for f in feeds))],
        notes=[
            "Their addresses were shown once, when each was made. "
            "`/policy deadlines calendar revoke cal2` turns one off, `off` all of them."
        ],
    )


def _revoke(session: Session, ctx: Context, feed_id: int | None) -> Reply:
    require_channel_member(ctx, "revoke this channel's calendar subscriptions")
    revoked = calendar_feeds.revoke_feeds(session, ctx.team_id, ctx.channel_id, ctx.now, feed_id)
    if feed_id is not None and not revoked:
        raise UserError(f"This channel has no calendar subscription `cal{feed_id}`.")
    if not revoked:
        return Reply(text="This channel has no calendar subscriptions to revoke.")
    refs = ", ".join(f.ref for f in revoked)
    return Reply(
        text=f"Revoked {refs}: calendars polling {'it' if len(revoked) == 1 else 'them'} "
        "now get nothing, and their events stay only until the calendar next polls.",
    )


# ---------------------------------------------------------------------------- the feed


@dataclass(frozen=True)
class FeedDocument:
    body: bytes
    etag: str  # a strong validator: the hash of the body, quoted
    last_modified: datetime


def feed_document(session: Session, token: str, now: datetime) -> FeedDocument | None:
    """The calendar a live feed's token opens, made afresh; None for any other token."""
    feed = calendar_feeds.feed_for_token(session, token)
    if feed is None:
        return None
    ctx = Context(
        now=now, team_id=feed.team_id, channel_id=feed.channel_id, user_id=feed.created_by
    )
    try:
        selection = select_deadlines(session, ctx, feed.query_text)
        due, about = selection.due, selection.about
    except UserError:
        # Words that parsed when the feed was made no longer do (a body was removed):
        # an empty calendar rather than an error the polling calendar cannot show anyone.
        due, about = [], f" for {feed.query_text}"
    name = CALENDAR_NAME + about.replace(" for ", ": ", 1)
    body = calendar_bytes(due, calendar_feeds.uid_domain(session), name=name)
    # The document changes when a brief does and, as deadlines pass, from one day to the
    # next: Last-Modified is the newest of those (the ETag tells every change).
    day_start = datetime.combine(ctx.today, time(), UTC)
    changed = [feed.created_at, day_start, *(item.brief.updated_at for item in due)]
    last_modified = max(c.astimezone(UTC) for c in changed).replace(microsecond=0)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return FeedDocument(body, etag, last_modified)
