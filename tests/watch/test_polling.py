"""Polling watched sources end to end against a local server: feeds (RSS, Atom), a
ministry-style notice list in Chinese, a direct PDF link; conditional GETs, each item once,
errors kept with back-off, a failing or slow source never holding up the others."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.fetch import Fetcher, FetchPolicy, HostGate
from policybot.data.models import Brief, Goal, SourceItem, SourceItemStatus, WatchedSource
from policybot.data.novelty import new_briefs_between
from policybot.data.watch import store
from policybot.scheduler.polling import Poller
from tests.conftest import NOW
from tests.data.tracker_pdf import tracker_pdf
from tests.watch.test_fetch import FakeClock
from tests.watch.web import Resource, Site, atom, document_page, notice_list, rss, serving

LOCAL = FetchPolicy(allow_private=True, timeout=2.0, max_bytes=2 * 1024 * 1024, spacing=2.0)


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as site:
        yield site


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def poller(factory: sessionmaker[Session], clock: FakeClock, **policy: object) -> Poller:
    chosen = FetchPolicy(**{**LOCAL.__dict__, **policy})
    gate = HostGate(chosen.spacing, clock=clock, wait=clock.wait)
    return Poller(factory, Fetcher(chosen, gate), parallel=1)


def add(factory: sessionmaker[Session], url: str, every: str = "every 1h", label: str = "") -> int:
    with factory() as session, session.begin():
        request = store.parse_source_request(f"{url} {every} {label}")
        return store.add_source(session, "T1", "U1", request, NOW, LOCAL).id


def serve_documents(site: Site, numbers: range, published: date) -> list[tuple[str, str, date]]:
    """Document pages at /art/<n>.html; the (title, url, date) a feed or list gives."""
    entries = []
    for number in numbers:
        title, html, _ = document_page(number, published)
        path = f"/art/2026/t{published:%Y%m%d}_{number:05d}.html"
        site.routes[path] = Resource(html)
        entries.append((title, site.url(path), published))
    return entries


def source(factory: sessionmaker[Session], source_id: int) -> WatchedSource:
    with factory() as session:
        found = session.get(WatchedSource, source_id)
        assert found is not None
        session.expunge(found)
        return found


def test_fifty_item_feed_over_ten_polls_every_item_once(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    published = NOW.date() - timedelta(days=2)
    entries = serve_documents(site, range(50), published)
    site.routes["/feed.xml"] = lambda: Resource(
        rss(list(reversed(entries))), content_type="application/rss+xml"
    )
    # A second, failing source and a third, healthy one beside it.
    site.routes["/broken.xml"] = Resource(b"down for maintenance", status=500)
    atom_entries = serve_documents(site, range(500, 503), published)
    site.routes["/atom.xml"] = Resource(atom(atom_entries), content_type="application/atom+xml")
    feed = add(factory, site.url("/feed.xml"))
    broken = add(factory, site.url("/broken.xml"))
    healthy = add(factory, site.url("/atom.xml"))
    polls = poller(factory, clock)
    now = NOW
    total = 50
    for round_ in range(10):
        report = polls.poll(now)
        by_source = {p.source_id: p for p in report.polls}
        assert by_source[feed].ok and by_source[healthy].ok
        if round_ > 0:
            assert by_source[feed].found == 5 and by_source[feed].taken == 5
        # Five new documents appear before the next poll.
        entries += serve_documents(site, range(total, total + 5), published)
        total += 5
        now += timedelta(hours=1)
    with factory() as session:
        items = session.scalars(select(SourceItem).where(SourceItem.source_id == feed)).all()
        urls = [item.url for item in items]
        assert len(urls) == len(set(urls)) == 95  # 50 + 9 rounds of 5, each once
        assert {item.status for item in items} == {SourceItemStatus.TAKEN}
        briefs = session.scalars(select(Brief)).all()
        titles = [b.title for b in briefs]
        assert len(titles) == len(set(titles)) == 98  # 95 from the feed, 3 from Atom
        # Each brief's source link is its document.
        assert all(any("/art/2026/" in link for link in b.links) for b in briefs)
    document_requests = [s for s in site.seen if s.path.startswith("/art/")]
    assert len(document_requests) == 98  # each document fetched once
    feed_requests = site.requests_to("/feed.xml")
    assert len(feed_requests) == 10
    assert feed_requests[0].if_none_match is None
    assert all(r.if_none_match for r in feed_requests[1:])  # conditional after the first
    failing = source(factory, broken)
    assert failing.last_error == "HTTP 500 Internal Server Error"
    assert failing.failures >= 2 and failing.last_success_at is None
    # The failing source backed off: polled fewer times than the others.
    assert len(site.requests_to("/broken.xml")) < 10
    ok = source(factory, healthy)
    assert ok.last_error is None and ok.last_success_at == now - timedelta(hours=1)
    assert ok.next_poll_at == now  # on time: one interval after its last poll
    assert len(site.requests_to("/atom.xml")) == 10


def test_an_unchanged_feed_answers_304_and_nothing_is_read_again(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    entries = serve_documents(site, range(3), NOW.date())
    site.routes["/feed.xml"] = Resource(rss(entries), content_type="application/rss+xml")
    feed = add(factory, site.url("/feed.xml"))
    polls = poller(factory, clock)
    assert polls.poll(NOW).taken == 3
    second = polls.poll(NOW + timedelta(hours=1))
    assert second.polls[0].not_modified and second.taken == 0
    assert source(factory, feed).last_success_at == NOW + timedelta(hours=1)
    assert len([s for s in site.seen if s.path.startswith("/art/")]) == 3


def test_a_chinese_notice_list_yields_its_documents_with_their_targets(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    published = NOW.date() - timedelta(days=3)
    entries = serve_documents(site, range(4), published)
    links = [(title, url.replace(site.base, ""), published) for title, url, _ in entries]
    site.routes["/zcfb/index.html"] = Resource(notice_list(links))
    for path in ("/", "/zwgk/index.html", "/zcjd/index.html", "/zcfb/index_1.html"):
        site.routes[path] = Resource(b"<html><body>navigation</body></html>")
    page = add(factory, site.url("/zcfb/index.html"))
    report = poller(factory, clock).poll(NOW)
    assert report.polls[0].ok, report.polls[0].error
    assert report.found == 4 and report.taken == 4
    # Navigation, pagination and the footer's link were not taken as documents.
    assert not [s for s in site.seen if s.path in ("/", "/zwgk/index.html", "/zcfb/index_1.html")]
    assert source(factory, page).kind == "page"
    with factory() as session:
        briefs = session.scalars(select(Brief).order_by(Brief.id)).all()
        assert len(briefs) == 4
        for brief in briefs:
            assert "行动方案" in brief.title
            assert brief.published_on == published
            assert "MIIT" in [b.abbreviation for b in brief.bodies]
            due_years = {
                g.due_on.year
                for g in session.scalars(select(Goal).where(Goal.brief_id == brief.id))
                if g.due_on
            }
            assert 2025 in due_years  # 2025年底前 ...
        # New by their date: digests deliver them.
        new = session.execute(new_briefs_between(NOW - timedelta(minutes=1), NOW)).all()
        assert len(new) == 4


def test_an_archive_document_found_today_is_not_new(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    old = date(2023, 5, 10)
    entries = serve_documents(site, range(2), old)
    site.routes["/feed.xml"] = Resource(rss(entries), content_type="application/rss+xml")
    add(factory, site.url("/feed.xml"))
    assert poller(factory, clock).poll(NOW).taken == 2
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Brief)) == 2
        assert not session.execute(new_briefs_between(NOW - timedelta(days=1), NOW)).all()


def test_a_direct_pdf_link_is_read_through_the_pdf_path(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    issue = (
        "China Industrial Policy Tracker\nNovember 2026\n\n"
        "Policy name: Action plan for industrial robots\n"
        "Issuing body: MIIT\nDate: 2026-11-20\n"
        "At a glance: The plan sets goals for robot density.\n"
        "Goals: Robot density doubles by 2027.\n"
    )
    site.routes["/files/tracker.pdf"] = Resource(tracker_pdf(issue), content_type="application/pdf")
    pdf = add(factory, site.url("/files/tracker.pdf"), "every 1d")
    report = poller(factory, clock).poll(NOW)
    assert report.polls[0].ok, report.polls[0].error
    assert report.taken == 1
    assert len(site.requests_to("/files/tracker.pdf")) == 1  # read from the poll's answer
    assert source(factory, pdf).kind == "pdf"
    with factory() as session:
        brief = session.scalars(select(Brief)).one()
        assert brief.title == "Action plan for industrial robots"


def test_errors_are_kept_backed_off_and_cleared_by_a_success(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    site.routes["/feed.xml"] = Resource(
        b"<rss><channel><item><title>x</tit", content_type="text/xml"
    )
    feed = add(factory, site.url("/feed.xml"), "every 4h")
    polls = poller(factory, clock)
    waits = []
    now = NOW
    for _ in range(4):
        polls.poll(now)
        failing = source(factory, feed)
        assert failing.last_error and "not valid XML" in failing.last_error
        waits.append(failing.next_poll_at - now)
        now = failing.next_poll_at
    assert waits == [timedelta(hours=1), timedelta(hours=2), timedelta(hours=4), timedelta(hours=8)]
    site.routes["/feed.xml"] = Resource(rss([]), content_type="application/rss+xml")
    polls.poll(now)
    healed = source(factory, feed)
    assert healed.failures == 0 and healed.last_success_at == now
    assert healed.last_error is not None  # kept for `/policy sources`, dated before the success


def test_a_slow_and_an_oversized_source_fail_alone(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    answer = threading.Event()
    with serving() as slow_site:
        slow_site.routes["/feed.xml"] = Resource(
            rss([]), content_type="application/rss+xml", wait=answer
        )
        site.routes["/huge.xml"] = Resource(
            b"<rss>" + b" " * 300_000 + b"</rss>", content_type="text/xml"
        )
        entries = serve_documents(site, range(2), NOW.date())
        site.routes["/feed.xml"] = Resource(rss(entries), content_type="application/rss+xml")
        slow = add(factory, slow_site.url("/feed.xml"))
        huge = add(factory, site.url("/huge.xml"))
        good = add(factory, site.url("/feed.xml"))
        try:
            report = poller(factory, clock, timeout=0.3, max_bytes=200_000).poll(NOW)
        finally:
            answer.set()
    outcome = {p.source_id: p for p in report.polls}
    assert outcome[good].ok and outcome[good].taken == 2
    assert outcome[slow].error == "no answer within 0.3 s"
    assert outcome[huge].error == "the answer is larger than 0.190735 MB"
    assert source(factory, good).next_poll_at == NOW + timedelta(hours=1)


def test_items_are_taken_once_across_sources_and_pollers(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    entries = serve_documents(site, range(6), NOW.date())
    site.routes["/a.xml"] = Resource(rss(entries), content_type="application/rss+xml")
    site.routes["/b.xml"] = Resource(atom(entries[3:]), content_type="application/atom+xml")
    add(factory, site.url("/a.xml"))
    add(factory, site.url("/b.xml"))
    first, second = poller(factory, clock), poller(factory, clock)
    taken = first.poll(NOW).taken + second.poll(NOW).taken
    assert taken == 6  # the second poller found nothing due; b's items were a's already
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(SourceItem)) == 6
        assert session.scalar(select(func.count()).select_from(Brief)) == 6


def test_nothing_is_polled_until_a_source_is_added_nor_while_paused(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    polls = poller(factory, clock)
    assert polls.poll(NOW).polls == []
    site.routes["/feed.xml"] = Resource(rss([]), content_type="application/rss+xml")
    feed = add(factory, site.url("/feed.xml"))
    with factory() as session, session.begin():
        store.set_paused(store.source_by_ref(session, "T1", f"w{feed}"), True, NOW)
    assert polls.poll(NOW + timedelta(days=1)).polls == []
    assert site.seen == []


def test_a_ministry_pdf_that_is_no_tracker_becomes_one_brief(
    factory: sessionmaker[Session], site: Site, clock: FakeClock
) -> None:
    text = (
        "关于印发《新型储能制造业高质量发展行动方案》的通知\n\n"
        "工业和信息化部 2026年11月20日\n\n"
        "到2027年，新型储能制造业全链条国际竞争优势凸显。\n\n"
        "2025年底前，建成10个以上示范项目。\n"
    )
    pdf = tracker_pdf(text, footer=None, page_numbers=False, whole_cjk=True)
    site.routes["/files/plan.pdf"] = Resource(pdf, content_type="application/octet-stream")
    add(factory, site.url("/files/plan.pdf"), "every 1d")
    report = poller(factory, clock).poll(NOW)
    assert report.polls[0].ok, report.polls[0].error
    assert report.taken == 1, report
    with factory() as session:
        brief = session.scalars(select(Brief)).one()
        assert "新型储能制造业高质量发展行动方案" in brief.title
        assert brief.published_on == date(2026, 11, 20)
        assert site.url("/files/plan.pdf") in brief.links
        assert [b.abbreviation for b in brief.bodies] == ["MIIT"]
