"""Digests: the new briefs a subscription matched, one message per subscription (in parts of
DIGEST_CHUNK briefs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from policybot.data.models import Brief, BriefKind, Subscription
from policybot.data.views import BriefView, brief_view
from policybot.scheduler.delivery import (
    ChannelStop,
    ClaimedItem,
    Courier,
    DeliveryKind,
    Owner,
    TickReport,
)
from policybot.scheduler.messages import DeliveryError, Digest

DIGEST = "digest"
DIGEST_CHUNK = 10  # briefs per message: ~21 blocks, well inside Slack's 50


def deliver_digest(
    courier: Courier,
    team: str,
    channel: str,
    items: list[ClaimedItem],
    now: datetime,
    report: TickReport,
) -> ChannelStop | None:
    """Post one subscription's digest; True when the channel itself failed."""
    subscription_id = items[0].subscription_id
    with courier.sessions() as session:
        subscription = session.get(Subscription, subscription_id) if subscription_id else None
        views = _views(session, [i.brief_id for i in items if i.brief_id], now)
        query_text = subscription.query_text if subscription else ""
        ref = subscription.ref if subscription else "s?"
        owner = subscription.created_by if subscription else None
    by_brief = {i.brief_id: i for i in items}
    missing = [i.id for i in items if i.brief_id not in {int(v.ref[1:]) for v in views}]
    if missing:  # the brief was deleted after planning: nothing to post
        courier.mark_sent(missing, now, "gone")
    chunks = [views[i : i + DIGEST_CHUNK] for i in range(0, len(views), DIGEST_CHUNK)]
    for index, chunk in enumerate(chunks):
        ids = [by_brief[int(v.ref[1:])].id for v in chunk]
        digest = Digest(ref, query_text, tuple(chunk), index + 1, len(chunks), tuple(ids))
        try:
            ts = courier.poster.post(team, channel, digest)
        except DeliveryError as error:
            remaining = [by_brief[int(v.ref[1:])].id for c in chunks[index:] for v in c]
            return courier.failed(
                error, team, channel, subscription_id, owner, ids, remaining, items, now, report
            )
        courier.mark_sent(ids, now, ts)
        report.add(messages=1, sent=len(ids))
    return None


def _views(session: Session, brief_ids: list[int], now: datetime) -> list[BriefView]:
    briefs = list(session.scalars(select(Brief).where(Brief.id.in_(brief_ids))))
    # Newest policy briefs first, then news, newest first.
    briefs.sort(
        key=lambda b: (
            b.kind != BriefKind.POLICY,
            -(b.published_on.toordinal() if b.published_on else 0),
            -b.id,
        )
    )
    return [brief_view(b, now.date()) for b in briefs]


KIND = DeliveryKind(
    DIGEST,
    Owner.SUBSCRIPTION,
    batch_key=lambda item: (DIGEST, item.subscription_id),
    deliver=deliver_digest,
)
