"""Attacks on polling (scheduler/polling.py): a source that hangs must hold up no other,
one failing for days backs off to its cap while the others keep their times, a source
removed or paused while its poll is in flight leaves nothing behind and no error, and a
redirect to a private place is an error shown in `/policy sources`, with nothing stored.
Polls that run on threads use a database file (each thread its own connection), on
SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.db import make_engine, session_factory
from policybot.data.fetch import Fetcher, FetchPolicy, HostGate
from policybot.data.models import Brief, SourceItem, WatchedSource
from policybot.data.watch import store
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.scheduler.polling import Poller
from tests.conftest import NOW
from tests.watch.test_fetch import FakeClock
from tests.watch.test_polling_replicas import database_url  # noqa: F401 - a fixture
from tests.watch.web import Resource, Site, document_page, rss, serving

LOCAL = FetchPolicy(allow_private=True, timeout=10.0, spacing=0.0)


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as site:
        yield site


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:  # noqa: F811
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


def add(sessions: sessionmaker[Session], url: str, every: str = "every 1h") -> int:
    with sessions() as session, session.begin():
        request = store.parse_source_request(f"{url} {every}")
        return store.add_source(session, "T1", "U1", request, NOW, LOCAL).id


def eventually(condition: Callable[[], bool]) -> bool:
    """Whether `condition` holds within 30 s (waiting on an Event, no sleep)."""
    pause = threading.Event()
    for _ in range(3000):
        if condition():
            return True
        pause.wait(0.01)
    return False


def seen(site: Site, path: str) -> bool:
    return eventually(lambda: bool(site.requests_to(path)))


def test_a_hanging_source_holds_up_no_other_source(
    sessions: sessionmaker[Session], site: Site
) -> None:
    """Two workers, one source hanging: the other three are all polled meanwhile (a pass
    that waited for a whole batch would leave them until the hanging one gave up)."""
    answer = threading.Event()
    with serving() as slow_site:
        slow_site.routes["/hang.xml"] = Resource(
            rss([]), content_type="application/rss+xml", wait=answer
        )
        hanging = add(sessions, slow_site.url("/hang.xml"))
        healthy = []
        for name in ("a", "b", "c"):
            site.routes[f"/{name}.xml"] = Resource(rss([]), content_type="application/rss+xml")
            healthy.append(add(sessions, site.url(f"/{name}.xml")))
        poller = Poller(sessions, Fetcher(LOCAL), parallel=2)
        done: list[int] = []
        thread = threading.Thread(target=lambda: done.append(len(poller.poll(NOW).polls)))
        thread.start()
        try:
            assert seen(slow_site, "/hang.xml")
            assert all(seen(site, f"/{name}.xml") for name in ("a", "b", "c"))

            def recorded() -> bool:
                with sessions() as session:
                    return all(
                        getattr(session.get(WatchedSource, i), "last_success_at", None) == NOW
                        for i in healthy
                    )

            assert eventually(recorded)  # recorded while the other still hangs
            assert thread.is_alive() and not answer.is_set()
        finally:
            answer.set()
            thread.join(60)
    assert done == [4]
    with sessions() as session:
        stuck = session.get(WatchedSource, hanging)
        assert stuck is not None and stuck.last_success_at == NOW


def test_a_source_failing_for_weeks_backs_off_to_the_cap_and_the_others_keep_time(
    factory: sessionmaker[Session], site: Site
) -> None:
    site.routes["/down.xml"] = Resource(b"maintenance", status=503)
    site.routes["/up.xml"] = Resource(rss([]), content_type="application/rss+xml")
    clock = FakeClock()
    poller = Poller(
        factory, Fetcher(LOCAL, HostGate(0.0, clock=clock, wait=clock.wait)), parallel=1
    )
    with factory() as session, session.begin():
        down = store.add_source(
            session,
            "T1",
            "U1",
            store.parse_source_request(f"{site.url('/down.xml')} every 1d"),
            NOW,
            LOCAL,
        ).id
        up = store.add_source(
            session,
            "T1",
            "U1",
            store.parse_source_request(f"{site.url('/up.xml')} every 1h"),
            NOW,
            LOCAL,
        ).id
    waits = []
    now = NOW
    for _ in range(24 * 40):  # forty days, hour by hour
        report = poller.poll(now)
        outcome = {p.source_id: p for p in report.polls}
        assert outcome[up].ok  # every hour, failing neighbour or not
        if down in outcome:
            with factory() as session:
                failing = session.get(WatchedSource, down)
                assert failing is not None and failing.last_error == "HTTP 503 Service Unavailable"
                waits.append(failing.next_poll_at - now)
        now += timedelta(hours=1)
    hours = [int(w.total_seconds() // 3600) for w in waits]
    assert hours[:6] == [6, 12, 24, 48, 96, 168]  # a quarter of the interval, doubling
    assert set(hours[5:]) == {168}  # then a week at most
    assert len(site.requests_to("/up.xml")) == 24 * 40
    assert len(site.requests_to("/down.xml")) == len(waits) < 12


@pytest.mark.parametrize("change", ["remove", "pause"])
def test_a_source_removed_or_paused_while_its_feed_is_read(
    sessions: sessionmaker[Session],
    site: Site,
    change: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = threading.Event()
    title, html, _ = document_page(1, NOW.date())
    site.routes["/art/t20261129_00001.html"] = Resource(html)
    entries = [(title, site.url("/art/t20261129_00001.html"), NOW.date())]
    site.routes["/feed.xml"] = Resource(
        rss(entries), content_type="application/rss+xml", wait=answer
    )
    feed = add(sessions, site.url("/feed.xml"))
    poller = Poller(sessions, Fetcher(LOCAL), parallel=1)
    reports = []
    thread = threading.Thread(target=lambda: reports.append(poller.poll(NOW)))
    caplog.set_level(logging.WARNING)
    thread.start()
    try:
        assert seen(site, "/feed.xml")
        with sessions() as session, session.begin():
            source = store.source_by_ref(session, "T1", f"w{feed}")
            if change == "remove":
                store.remove_source(session, source)
            else:
                store.set_paused(source, True, NOW)
    finally:
        answer.set()
        thread.join(60)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    with sessions() as session:
        items = session.scalar(select(func.count()).select_from(SourceItem))
        briefs = session.scalar(select(func.count()).select_from(Brief))
        after = session.get(WatchedSource, feed)
        if change == "remove":
            assert after is None and (items, briefs) == (0, 0)
        else:
            # The poll in flight finishes its work; the source then stays paused.
            assert after is not None and after.paused_at == NOW
    if change == "pause":
        later = Poller(sessions, Fetcher(LOCAL), parallel=1).poll(NOW + timedelta(days=2))
        assert later.polls == []


def test_a_source_removed_while_its_document_is_read_writes_nothing(
    sessions: sessionmaker[Session], site: Site
) -> None:
    answer = threading.Event()
    title, html, _ = document_page(2, NOW.date())
    site.routes["/art/t20261129_00002.html"] = Resource(html, wait=answer)
    entries = [(title, site.url("/art/t20261129_00002.html"), NOW.date())]
    site.routes["/feed.xml"] = Resource(rss(entries), content_type="application/rss+xml")
    feed = add(sessions, site.url("/feed.xml"))
    poller = Poller(sessions, Fetcher(LOCAL), parallel=1)
    thread = threading.Thread(target=lambda: poller.poll(NOW))
    thread.start()
    try:
        assert seen(site, "/art/t20261129_00002.html")
        with sessions() as session, session.begin():
            store.remove_source(session, store.source_by_ref(session, "T1", f"w{feed}"))
    finally:
        answer.set()
        thread.join(60)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Brief)) == 0
        assert session.scalar(select(func.count()).select_from(SourceItem)) == 0


def test_a_redirect_to_a_private_address_is_an_error_in_the_list_and_stores_nothing(
    factory: sessionmaker[Session], site: Site
) -> None:
    origin = site.base.split("//", 1)[1]
    policy = replace(LOCAL, allow_private=False, trusted_origins=frozenset({origin}))
    site.routes["/feed.xml"] = Resource(
        b"", status=302, headers={"Location": "http://10.20.30.40/internal/feed.xml"}
    )
    with factory() as session, session.begin():
        request = store.parse_source_request(site.url("/feed.xml"))
        store.add_source(session, "T1", "U1", request, NOW, policy)
    report = Poller(factory, Fetcher(policy), parallel=1).poll(NOW)
    assert not report.polls[0].ok
    reply = CommandRunner(factory).run(
        "sources", Context(now=NOW, team_id="T1", channel_id="C1", user_id="U1")
    )
    listed = "\n".join(str(line) for section in reply.sections for line in section.lines)
    assert "10.20.30.40 resolves to 10.20.30.40, a private network address" in listed
    assert "1 failure in a row; backing off" in listed
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(SourceItem)) == 0
        assert session.scalar(select(func.count()).select_from(Brief)) == 0
