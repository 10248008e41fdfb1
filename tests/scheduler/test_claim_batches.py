"""A channel's slot is one message however many rows are due: rows are claimed in batches,
and a channel whose rows straddle two batches used to get one message per batch (a brief
two of its subscriptions matched could land in both). A channel held by Retry-After keeps
its order: nothing newer overtakes what waits. Both engines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.bot.blocks import render_blocks
from policybot.bot.posters import decode_ids, encode_ids
from policybot.data.models import Delivery, DeliveryStatus
from policybot.handlers.context import Context
from policybot.handlers.digests import reply_for
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler.messages import DeliveryError, Digest, FailureKind, SubscriptionLine
from policybot.scheduler.ticker import CLAIM_BATCH, Ticker
from tests.bot.test_blocks import assert_valid_message
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _subscribe(factory: sessionmaker[Session], channel: str, *queries: str) -> None:
    with factory() as session, session.begin():
        for query in queries:
            ctx = Context(now=START, team_id="T1", channel_id=channel, user_id="U1")
            subscribe(Request(session, ctx, f"{query} instant", 1))


def _refs(digest: Digest) -> list[str]:
    return [brief.ref for brief in digest.briefs] + list(digest.more_briefs)


def repeats(poster: RecordingPoster, channel: str) -> int:
    """Briefs the channel received more than once (extra copies counted)."""
    seen = Counter(ref for digest in poster.digests(channel) for ref in _refs(digest))
    return sum(n - 1 for n in seen.values())


def _ingest_many(factory: sessionmaker[Session], count: int, at: datetime) -> None:
    titles = [f"Batch Brief {n}" for n in range(count)]
    for start in range(0, count, 200):  # a few issues, as a busy morning brings
        ingest(factory, tracker_issue(*titles[start : start + 200], words="battery storage"), at)


@pytest.mark.parametrize("batch", [7, 20, 45])
def test_a_channel_slot_is_one_message_whatever_the_claim_batch(
    factory: sessionmaker[Session], batch: int
) -> None:
    # Two subscriptions of C1 match every brief (two rows a brief), C2 and C3 one each: the
    # channels' rows interleave with the batch boundaries.
    _subscribe(factory, "C1", "storage", "battery")
    _subscribe(factory, "C2", "storage")
    _subscribe(factory, "C3", "battery")
    _ingest_many(factory, 30, START + timedelta(seconds=5))
    poster = RecordingPoster()
    report = Ticker(factory, poster, worker_id="w", max_workers=1, claim_batch=batch).tick(
        START + timedelta(minutes=1)
    )
    assert report.claimed == 30 * 4
    for channel in ("C1", "C2", "C3"):
        digests = poster.digests(channel)
        assert len(digests) == 1, [d.headline for d in digests]
        assert repeats(poster, channel) == 0
        assert len(set(_refs(digests[0]))) == 30
    (c1,) = poster.digests("C1")
    assert c1.headline.startswith("30 new briefs for s") and len(c1.subscriptions) == 2
    with factory() as session:
        statuses = set(session.scalars(select(Delivery.status)))
    assert statuses == {DeliveryStatus.SENT}


def test_more_rows_than_the_default_batch_reach_a_channel_once(
    factory: sessionmaker[Session],
) -> None:
    """The reported case, over the real default batch: two subscriptions of one channel
    matching 300 briefs give 600 due rows, more than one claim of CLAIM_BATCH."""
    count = CLAIM_BATCH // 2 + 50
    _subscribe(factory, "C1", "storage", "battery")
    _ingest_many(factory, count, START + timedelta(seconds=5))
    poster = RecordingPoster()
    report = Ticker(factory, poster, worker_id="w", max_workers=1).tick(
        START + timedelta(minutes=1)
    )
    assert report.claimed == 2 * count > CLAIM_BATCH
    print(
        f"\n{2 * count} due rows: {len(poster.digests('C1'))} message(s), "
        f"{repeats(poster, 'C1')} repeated brief(s)"
    )
    (digest,) = poster.digests("C1")
    assert (
        digest.headline.startswith(f"{count} new briefs for s") and len(digest.subscriptions) == 2
    )
    assert repeats(poster, "C1") == 0
    # The message names its 600 ledger rows in its metadata as a few runs of ids.
    ids = set(digest.delivery_ids)
    assert len(ids) == 2 * count and len(encode_ids(digest.delivery_ids)) < 40
    assert decode_ids(encode_ids(digest.delivery_ids), ids | {max(ids) + 1}) == ids


def test_metadata_ids_are_compared_not_expanded() -> None:
    assert encode_ids((9, 3, 4, 5, 7, 8)) == "3-5,7-9"
    assert decode_ids("1,2,3", {2, 4}) == {2}  # the plain list of earlier messages
    assert decode_ids("1-99999999999999,x,5-", {7, 10**12}) == {7, 10**12}


def test_a_channel_held_by_retry_after_is_not_overtaken(factory: sessionmaker[Session]) -> None:
    _subscribe(factory, "C1", "storage")
    _subscribe(factory, "C2", "storage")
    ingest(factory, tracker_issue("First Brief"), START + timedelta(seconds=5))
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="w", max_workers=1)
    # C1's post (the first channel posted) is rate limited for two minutes.
    poster.fail_with = [DeliveryError(FailureKind.RETRY, "ratelimited", retry_after=120)]
    ticker.tick(START + timedelta(minutes=1))
    assert [c for _, c, _ in poster.posts] == ["C2"]
    # A newer brief arrives while C1 waits: C2 gets it, C1 still waits.
    ingest(factory, tracker_issue("Second Brief"), START + timedelta(minutes=1, seconds=30))
    ticker.tick(START + timedelta(minutes=2))
    assert [c for _, c, _ in poster.posts] == ["C2", "C2"]
    # Once Retry-After has passed, C1 gets both, in one message.
    ticker.tick(START + timedelta(minutes=3, seconds=1))
    c1 = poster.digests("C1")
    assert len(c1) == 1 and {b.title for b in c1[0].briefs} == {"First Brief", "Second Brief"}


def test_a_very_large_slot_still_says_how_to_see_the_rest() -> None:
    """The briefs past the cap are listed behind a button; when their ids are more than a
    button holds (Slack: 2,000 characters), it lists as many as fit and says so, rather
    than being dropped."""
    more = tuple(f"b{10_000 + n}" for n in range(600))
    digest = Digest(
        "s1", "storage", (), more_briefs=more, subscriptions=(SubscriptionLine(1, "s1", "storage"),)
    )
    payload = render_blocks(reply_for(digest))
    assert_valid_message(payload)
    (listed,) = [
        element
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if str(element.get("value", "")).startswith("list ")
    ]
    refs = listed["value"].split()[1:]
    assert refs == list(more[: len(refs)]) and 200 < len(refs) < len(more)
    assert listed["text"]["text"] == f"See the next {len(refs)} of {len(more)}"
    assert "600 more briefs" in str(payload["blocks"])
