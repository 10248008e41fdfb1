"""A brief is as new as the issue that brought it (data/novelty.py): loading a back issue
stores its briefs as archive, searchable at once, never posted by a digest, never a
"newly tracked" alert, never in a subscription's "last 30 days" preview; an admin's --new
makes them news. A recent issue reporting older policies is new. Both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.ingest.writer import IngestSummary, ingest_bytes
from policybot.data.models import Brief
from policybot.data.novelty import ARCHIVE_AFTER, Novelty, is_archive_date
from policybot.handlers.context import Context
from policybot.handlers.reminders import remind
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler.messages import AlertBatch, Digest
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster, tracker_issue

# Ingested in December 2026: a December 2024 issue is two years old.
MORNING = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _context(now: datetime) -> Context:
    return Context(now=now, team_id="T1", channel_id="C1", user_id="U1")


def _ingest(
    factory: sessionmaker[Session],
    raw: bytes,
    at: datetime,
    name: str,
    novelty: Novelty = Novelty.AUTO,
) -> IngestSummary:
    with factory() as session, session.begin():
        return ingest_bytes(session, raw, name, at, novelty)


def _posted(poster: RecordingPoster) -> tuple[list[str], list[tuple[bool, str]]]:
    """(titles digests delivered, (newly tracked?, goal ref) of every alert)."""
    titles = [b.title for _, _, m in poster.posts if isinstance(m, Digest) for b in m.briefs]
    alerts = [
        (a.newly_tracked, a.goal.ref)
        for _, _, m in poster.posts
        if isinstance(m, AlertBatch | Digest)
        for a in m.alerts
    ]
    return titles, alerts


def test_the_threshold() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert not is_archive_date(now.date() - ARCHIVE_AFTER, now)
    assert is_archive_date(now.date() - ARCHIVE_AFTER - timedelta(days=1), now)
    assert not is_archive_date(None, now)  # undated: nothing says it is old
    assert not is_archive_date(date(2027, 1, 1), now)  # dated ahead


def test_a_back_issue_is_archive_and_a_recent_one_is_news(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        subscribe(Request(session, _context(MORNING), "daily at 09:00 tz UTC", 1))
        remind(Request(session, _context(MORNING), "tz UTC", 1))
    # Two policies of December 2024, the first with a goal due within the reminder leads.
    old = tracker_issue("Archive Plan One", "Archive Plan Two", published=date(2024, 12, 10))
    old = old.replace(b"By 2028,", b"By March 2027,", 1)
    summary = _ingest(factory, old, MORNING + timedelta(minutes=30), "tracker-2024-12.txt")
    assert (summary.added, summary.added_new, summary.added_archive) == (2, 0, 2)
    assert summary.archive and summary.novelty_label == "2 archive: not posted"
    # Last week's issue, reporting a policy of three months ago: news.
    fresh = tracker_issue("Recent Issue Plan", published=date(2026, 9, 5))
    fresh = fresh.replace(b"By 2028,", b"By March 2027,", 1)
    summary = _ingest(factory, fresh, MORNING + timedelta(minutes=40), "tracker-2026-11.txt")
    assert (summary.added_new, summary.added_archive) == (1, 0)

    with factory() as session:  # searchable at once, archive or not
        assert session.scalar(select(func.count()).select_from(Brief)) == 3
        preview = subscribe(Request(session, _context(MORNING + timedelta(hours=1)), "plan", 1))
        assert [b.title for b in preview.briefs] == ["Recent Issue Plan"]

    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="archive", max_workers=1)
    ticker.tick(MORNING.replace(hour=9))
    titles, alerts = _posted(poster)
    assert titles == ["Recent Issue Plan"]
    # The recent brief's goal (due 31 Mar 2027, past its 180-day lead) is newly tracked;
    # the archive briefs' goals are not, and their next lead (90 days) still comes.
    with factory() as session:
        recent = session.scalars(select(Brief).where(Brief.title == "Recent Issue Plan")).one()
        recent_ref = recent.goals[0].ref
        one = session.scalars(select(Brief).where(Brief.title == "Archive Plan One")).one()
        archive_goal = one.goals[0].ref  # due 31 Mar 2027 too
    assert alerts == [(True, recent_ref)]
    ticker.tick(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))  # 31 Mar 2027 less 90 days
    _, alerts = _posted(poster)
    assert alerts == [(True, recent_ref), (False, archive_goal), (False, recent_ref)]


def test_an_admin_can_make_a_back_issue_news_and_a_recent_one_archive(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        subscribe(Request(session, _context(MORNING), "daily at 09:00 tz UTC", 1))
    old = tracker_issue("Back Issue Plan", published=date(2024, 12, 10))
    _ingest(factory, old, MORNING, "old.txt")
    recent = tracker_issue("Quiet Plan", published=date(2026, 11, 30))
    quiet = _ingest(factory, recent, MORNING, "recent.txt", Novelty.ARCHIVE)
    assert quiet.novelty_label == "1 archive: not posted"
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="admin", max_workers=1)
    ticker.tick(MORNING.replace(hour=9))
    assert _posted(poster)[0] == []
    # The same back issue again, said to be news: its stored brief is new from now.
    again = _ingest(factory, old, MORNING.replace(hour=10), "old.txt", Novelty.NEW)
    assert (again.unchanged, again.marked_new) == (1, 1)
    assert again.novelty_label == "1 new"
    ticker.tick(MORNING.replace(hour=9) + timedelta(days=1))
    ticker.tick(MORNING.replace(hour=9) + timedelta(days=2))
    assert _posted(poster)[0] == ["Back Issue Plan"]  # once
