"""A draft for comments made final: the channels told of the draft (by a digest, or by a
reminder rule's alert on one of its goals) hear once that it was finalised, with what
changed in its targets; a channel that never heard of the draft hears nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Delivery, DeliveryStatus, Finalisation
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler.kinds.finalised import FINALISED, FINALISED_RULE
from policybot.scheduler.messages import Finalised
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster, ingest

START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def draft_and_final(
    name: str,
    serial: int,
    draft_on: date,
    final_on: date,
    months: tuple[str, str] = ("March 2027", "June 2027"),
) -> tuple[bytes, bytes]:
    """A tracker's entry on a draft for comments (its goal due in the first month) and on
    its final version (the goal moved to the second, one added)."""

    def entry(title: str, original: str, day: date, goals: list[str]) -> bytes:
        bullets = "\n\n".join(f"\uf0a1 {goal}" for goal in goals)
        return (
            f"At a glance: The MIIT released {title.lower()} on storage grids. Key goals include:\n\n"
            f"{bullets}\n\n"
            "MERICS comment: A comment about storage grids.\n\n"
            f"Article: {title} ({original}) (Link)\n\n"
            "Issuing body: MIIT\n\n"
            f"Date: {day.strftime('%B %-d, %Y')}\n\n"
            f"https://example.org/{serial}/{day.isoformat()}\n"
        ).encode()

    draft = entry(
        f"Storage Plan {serial} (Draft for Comments)",
        f"关于公开征求对《{name}（征求意见稿）》意见的通知",
        draft_on,
        [f"By {months[0]}, connect storage grid {serial}"],
    )
    final = entry(
        f"Storage Plan {serial}",
        f"关于印发《{name}》的通知",
        final_on,
        [f"By {months[1]}, connect storage grid {serial}", f"By 2030, export grid {serial}"],
    )
    return draft, final


def _context(channel: str, now: datetime) -> Context:
    return Context(now=now, team_id="T1", channel_id=channel, user_id="U1")


def test_channels_told_of_a_draft_hear_once_that_it_is_final(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        subscribe(Request(session, _context("CSUB", START), "instant storage", 1))
        remind(Request(session, _context("CRULE", START), "storage tz UTC", 1))
        subscribe(Request(session, _context("CLATE", START), "instant robots", 1))
    draft, final = draft_and_final("储能电网行动方案", 1, date(2027, 2, 27), date(2027, 3, 5))
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="t", max_workers=1)
    ingest(factory, draft, START + timedelta(hours=1))
    ticker.tick(START + timedelta(hours=2))  # the draft posted to CSUB, its goal to CRULE
    told = {channel for _, channel, _ in poster.posts}
    assert told == {"CSUB", "CRULE"}

    for attempt in range(3):  # the final, ingested again and again (another file each time)
        ingest(factory, final, START + timedelta(days=5, hours=attempt))
        ticker.tick(START + timedelta(days=5, hours=attempt, minutes=30))
    notices = [(channel, m) for _, channel, m in poster.posts if isinstance(m, Finalised)]
    assert sorted(channel for channel, _ in notices) == ["CRULE", "CSUB"]
    _, message = notices[0]
    assert "Storage Plan 1 (Draft for Comments)" in message.text
    assert any(c.startswith("moved:") and "March 2027" in c for c in message.changes)
    assert any(c.startswith("added:") and "2030" in c for c in message.changes)
    with factory() as session:
        rows = session.scalars(
            select(Delivery).where(Delivery.kind.in_([FINALISED, FINALISED_RULE]))
        )
        assert {(r.channel_id, r.kind, r.status) for r in rows} == {
            ("CSUB", FINALISED, DeliveryStatus.SENT),
            ("CRULE", FINALISED_RULE, DeliveryStatus.SENT),
        }
        (finalisation,) = session.scalars(select(Finalisation))
        assert finalisation.planned_at is not None


def test_a_failed_post_is_retried_not_lost_nor_doubled(factory: sessionmaker[Session]) -> None:
    from policybot.scheduler.messages import DeliveryError, FailureKind

    with factory() as session, session.begin():
        subscribe(Request(session, _context("CSUB", START), "instant storage", 1))
    draft, final = draft_and_final("储能调峰方案", 2, date(2027, 2, 27), date(2027, 3, 5))
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="t", max_workers=1)
    ingest(factory, draft, START + timedelta(hours=1))
    ticker.tick(START + timedelta(hours=2))
    ingest(factory, final, START + timedelta(days=5))
    poster.fail_with.append(DeliveryError(FailureKind.RETRY, "ratelimited", retry_after=60))
    ticker.tick(START + timedelta(days=5, minutes=1))
    assert not [m for _, _, m in poster.posts if isinstance(m, Finalised)]
    for minutes in (5, 10, 60):
        ticker.tick(START + timedelta(days=5, minutes=minutes))
    assert len([m for _, _, m in poster.posts if isinstance(m, Finalised)]) == 1


def test_the_notice_is_valid_block_kit() -> None:
    from policybot.bot.blocks import render_blocks
    from policybot.handlers.digests import reply_for
    from tests.fakeslack import _invalid_block_kit

    message = Finalised(
        drafts=(("b2", "Storage Plan (Draft for Comments)"),),
        final_ref="b9",
        final_title="Storage Plan",
        final_date="10 Jan 2025",
        changes=("moved: connect grids (by end of March 2027 \u2192 by end of June 2027)",),
        delivery_ids=(7,),
    )
    payload = render_blocks(reply_for(message))
    assert _invalid_block_kit({"blocks": payload["blocks"]}) is None
    assert "b9" in payload["text"] and "moved: connect grids" in payload["text"]
