"""What a watched source brings is delivered like everything else: a digest posts a newly
found document once, an archive document found today is not news, and its targets are
deadlines that reminders and `deadlines` find."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from policybot.data.fetch import Fetcher, FetchPolicy, HostGate
from policybot.data.watch import store
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.request import Request
from policybot.handlers.subscriptions import subscribe
from policybot.scheduler.polling import Poller
from policybot.scheduler.ticker import Ticker
from tests.conftest import NOW
from tests.scheduler.conftest import RecordingPoster
from tests.watch.test_fetch import FakeClock
from tests.watch.web import Resource, document_page, rss, serving

LOCAL = FetchPolicy(allow_private=True, timeout=2.0, spacing=1.0)
CTX = Context(now=NOW, team_id="T1", channel_id="C1", user_id="U1")


def test_a_found_document_is_posted_once_and_an_archive_one_never(
    factory: sessionmaker[Session],
) -> None:
    poster = RecordingPoster()
    ticker = Ticker(factory, poster, worker_id="test", max_workers=1)
    with factory() as session, session.begin():
        subscribe(Request(session, CTX, "行动方案 instant"))
    clock = FakeClock()
    poller = Poller(factory, Fetcher(LOCAL, HostGate(1.0, clock, clock.wait)), parallel=1)
    with serving() as site:
        fresh_title, fresh, _ = document_page(1, NOW.date() - timedelta(days=1))
        old_title, old, _ = document_page(2, date(2023, 3, 1))
        # A plan due within two years, for the deadlines reminders look at.
        soon = fresh.replace("2025年底前".encode(), "2027年底前".encode())
        site.routes["/art/t1_00001.html"] = Resource(soon)
        site.routes["/art/t0_00002.html"] = Resource(old)
        entries = [
            (fresh_title, site.url("/art/t1_00001.html"), NOW.date() - timedelta(days=1)),
            (old_title, site.url("/art/t0_00002.html"), date(2023, 3, 1)),
        ]
        site.routes["/feed.xml"] = Resource(rss(entries), content_type="application/rss+xml")
        with factory() as session, session.begin():
            request = store.parse_source_request(site.url("/feed.xml") + " every 1h")
            found_at = NOW + timedelta(minutes=1)
            store.add_source(session, "T1", "U1", request, found_at, LOCAL)
        # Found after the subscription began.
        assert poller.poll(found_at).taken == 2
        first = ticker.tick(found_at + timedelta(minutes=1))
        assert first.sent == 1
        titles = poster.brief_titles("C1")
        assert len(titles) == 1 and "第1号" in titles[0]  # the archive plan is not news
        # The next poll finds nothing new (304); nothing is posted again.
        assert poller.poll(found_at + timedelta(hours=1)).taken == 0
        assert ticker.tick(NOW + timedelta(hours=1, minutes=1)).sent == 0
        # A feed that changes but still lists them: each document was taken once.
        site.routes["/feed.xml"] = Resource(
            rss([*entries, *entries]), content_type="application/rss+xml"
        )
        assert poller.poll(found_at + timedelta(hours=2)).taken == 0
        assert ticker.tick(NOW + timedelta(hours=2, minutes=1)).sent == 0
    assert len(poster.digests()) == 1
    deadlines = CommandRunner(factory).run("deadlines within 24m 行动方案", CTX)
    due = [d.goal.due_on for d in deadlines.deadlines]
    assert date(2027, 12, 31) in due
