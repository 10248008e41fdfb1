"""What a subscription would have delivered: its preview when it is made, and a sample post.

The same query the scheduler plans with (compiled by data/query) over the briefs that
became new in the last PREVIEW_DAYS, so the preview tells the truth about what the channel will get.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..data import store
from ..data.errors import UserError
from ..data.models import Brief, Subscription
from ..data.novelty import new_briefs_between
from ..data.query.compiler import build_filter
from ..data.query.language import parse_query
from ..data.views import brief_view
from .context import Context
from .replies import Button, Reply, Visibility

PREVIEW_DAYS = 30
PREVIEW_SHOWN = 3
SAMPLE_SHOWN = 5


def recent_matches(session: Session, query_text: str, now: datetime) -> list[Brief]:
    """Briefs that became new in the last PREVIEW_DAYS (the digests' rule, data/novelty.py:
    an archive loaded lately is not among them) that the query matches, newest first."""
    where, _ = build_filter(session, parse_query(query_text))
    arrived = [
        brief_id
        for brief_id, _ in session.execute(
            new_briefs_between(now - timedelta(days=PREVIEW_DAYS), now)
        )
    ]
    ids = store.matching_ids(session, where, only_ids=arrived) if arrived else []
    if not ids:
        return []
    briefs = list(session.scalars(select(Brief).where(Brief.id.in_(ids))))
    briefs.sort(key=lambda b: (b.published_on is not None, b.published_on, b.id), reverse=True)
    return briefs


def add_preview(session: Session, ctx: Context, subscription: Subscription, reply: Reply) -> None:
    """Say what the subscription would have delivered lately, with the newest few."""
    found = recent_matches(session, subscription.query_text, ctx.now)
    if not found:
        reply.notes.append(
            f"Nothing in the last {PREVIEW_DAYS} days would have matched; new briefs will."
        )
        return
    noun = "brief" if len(found) == 1 else "briefs"
    shown = min(PREVIEW_SHOWN, len(found))
    reply.notes.append(
        f"In the last {PREVIEW_DAYS} days it would have delivered {len(found)} {noun}"
        + (f"; the {shown} newest:" if len(found) > shown else ":")
    )
    reply.briefs = [brief_view(b, ctx.today) for b in found[:shown]]
    reply.buttons.append(Button("Post a sample", f"sample {subscription.ref}"))


def sample(session: Session, ctx: Context, text: str, _page: int) -> Reply:
    """`sample s5`: post to the channel what s5 would have delivered lately."""
    argument = text.strip().lower()
    ref = argument[1:] if argument.startswith("s") else argument
    if not ref.isdecimal() or len(ref) > 12:
        raise UserError(
            "Which subscription? `/policy sample s3` (`/policy subscriptions` lists them)."
        )
    subscription = session.scalar(
        select(Subscription).where(
            Subscription.id == int(ref),
            Subscription.team_id == ctx.team_id,
            Subscription.channel_id == ctx.channel_id,
        )
    )
    if subscription is None:
        raise UserError(
            f"This channel has no subscription `s{ref}`; `/policy subscriptions` lists them."
        )
    found = recent_matches(session, subscription.query_text, ctx.now)
    what = subscription.query_text or "every new brief"
    if not found:
        return Reply(
            text=f"A sample of {subscription.ref} ({what}): nothing in the last {PREVIEW_DAYS} days."
        )
    shown = found[:SAMPLE_SHOWN]
    more = f", {len(shown)} of {len(found)} shown" if len(found) > len(shown) else ""
    return Reply(
        text=f"A sample of {subscription.ref} ({what}): the last {PREVIEW_DAYS} days{more}",
        briefs=[brief_view(b, ctx.today) for b in shown],
        visibility=Visibility.IN_CHANNEL,
    )
