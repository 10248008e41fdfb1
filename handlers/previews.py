"""What a subscription would have delivered: its preview when it is made, and a sample post.

The same query the scheduler plans with (compiled by data/query) over the briefs that
became new in the last PREVIEW_DAYS, so the preview tells the truth about what the channel will get.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ..data.briefs import briefs_by_ids, matching_ids
from ..data.errors import UserError
from ..data.models import Brief, Subscription
from ..data.novelty import new_briefs_between
from ..data.query.meaning import meaning_of
from ..data.subscriptions import team_subscription
from ..data.views import brief_view
from .context import Context
from .replies import Button, Reply, Visibility
from .request import Request

PREVIEW_DAYS = 30
PREVIEW_SHOWN = 3
SAMPLE_SHOWN = 5


def recent_matches(session: Session, query_text: str, now: datetime) -> list[Brief]:
    """Briefs that became new in the last PREVIEW_DAYS (the digests' rule, data/novelty.py:
    an archive loaded lately is not among them) that the query matches, newest first."""
    # A subscription's stored meaning, compiled as the scheduler compiles it.
    where = meaning_of(session, query_text, None, stored=True).where
    arrived = [
        brief_id
        for brief_id, _ in session.execute(
            new_briefs_between(now - timedelta(days=PREVIEW_DAYS), now)
        )
    ]
    ids = matching_ids(session, where, only_ids=arrived) if arrived else []
    if not ids:
        return []
    briefs = briefs_by_ids(session, ids)
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


def sample(request: Request) -> Reply:
    """`sample s5`: post to the channel what s5 would have delivered lately."""
    session, ctx, text = request.session, request.context, request.argument
    argument = text.strip().lower()
    ref = argument[1:] if argument.startswith("s") else argument
    if not ref.isdecimal() or len(ref) > 12:
        raise UserError(
            "Which subscription? `/policy sample s3` (`/policy subscriptions` lists them)."
        )
    subscription = team_subscription(session, ctx.team_id, int(ref), channel_id=ctx.channel_id)
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
