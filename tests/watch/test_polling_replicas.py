"""Pollers on several replicas (each its own engine) polling at the same moment: every
item is taken once; and in a scheduler process polling is a job of its own, so a source
that hangs never holds up the delivery tick."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from policybot.data import fetch
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.fetch import Fetcher, FetchPolicy
from policybot.data.models import Brief, SourceItem
from policybot.data.watch import store
from policybot.scheduler.polling import Poller
from policybot.scheduler.runner import POLL_JOB_ID, TICK_JOB_ID, start_background_ticker
from policybot.scheduler.ticker import Ticker
from tests.conftest import NOW
from tests.scheduler.conftest import RecordingPoster
from tests.watch.web import Resource, Site, atom, document_page, rss, serving

LOCAL = FetchPolicy(allow_private=True, timeout=5.0, spacing=0.0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("fresh_postgres_url"))
    url = f"sqlite:///{tmp_path / 'replicas.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as site:
        yield site


def test_three_replicas_polling_at_once_take_each_item_once(database_url: str, site: Site) -> None:
    entries = []
    for number in range(30):
        title, html, _ = document_page(number, NOW.date())
        site.routes[f"/art/{number:05d}.html"] = Resource(html)
        entries.append((title, site.url(f"/art/{number:05d}.html"), NOW.date()))
    # Four sources whose items overlap: the same documents through several feeds.
    site.routes["/a.xml"] = Resource(rss(entries[:20]), content_type="application/rss+xml")
    site.routes["/b.xml"] = Resource(atom(entries[10:]), content_type="application/atom+xml")
    site.routes["/c.xml"] = Resource(rss(entries[::2]), content_type="application/rss+xml")
    site.routes["/d.xml"] = Resource(rss(entries[1::3]), content_type="application/rss+xml")
    engines = [make_engine(database_url) for _ in range(3)]
    try:
        with session_factory(engines[0])() as session, session.begin():
            for path in ("/a.xml", "/b.xml", "/c.xml", "/d.xml"):
                request = store.parse_source_request(site.url(path))
                store.add_source(session, "T1", "U1", request, NOW, LOCAL)
        pollers = [Poller(session_factory(e), Fetcher(LOCAL), parallel=2) for e in engines]
        start = threading.Barrier(len(pollers))
        taken: list[int] = []

        def run(poller: Poller) -> None:
            start.wait()
            taken.append(poller.poll(NOW).taken)

        threads = [threading.Thread(target=run, args=(p,)) for p in pollers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        with session_factory(engines[0])() as session:
            problems = [
                (i.url, i.status, i.error)
                for i in session.scalars(select(SourceItem))
                if i.status != "taken"
            ]
        assert sum(taken) == 30, problems
        with session_factory(engines[0])() as session:
            assert session.scalar(select(func.count()).select_from(SourceItem)) == 30
            assert session.scalar(select(func.count()).select_from(Brief)) == 30
        feed_gets = [s for s in site.seen if s.path.endswith(".xml")]
        assert len(feed_gets) == 4  # each source polled by one replica
        document_gets = [s for s in site.seen if s.path.startswith("/art/")]
        assert len(document_gets) == 30
    finally:
        for engine in engines:
            engine.dispose()


def test_a_hanging_source_never_holds_up_the_tick(database_url: str, site: Site) -> None:
    before = fetch.current_policy()
    fetch.configure(FetchPolicy(allow_private=True, timeout=20.0, spacing=0.0))
    try:
        hanging_source_and_tick(database_url, site)
    finally:
        fetch.configure(before)


def hanging_source_and_tick(database_url: str, site: Site) -> None:
    answer = threading.Event()
    site.routes["/hang.xml"] = Resource(rss([]), content_type="application/rss+xml", wait=answer)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        store.add_source(
            session, "T1", "U1", store.parse_source_request(site.url("/hang.xml")), NOW, LOCAL
        )
    ticked = threading.Event()

    class WatchedTicker(Ticker):
        def tick(self, now):  # type: ignore[no-untyped-def]
            report = super().tick(now)
            ticked.set()
            return report

    ticker = WatchedTicker(sessions, RecordingPoster(), worker_id="t", max_workers=1)
    scheduler = start_background_ticker(ticker, lambda: NOW + timedelta(minutes=1), 3600)
    try:
        assert {job.id for job in scheduler.get_jobs()} == {TICK_JOB_ID, POLL_JOB_ID}
        assert ticked.wait(30)  # the first tick, at start
        scheduler.modify_job(POLL_JOB_ID, next_run_time=datetime.now(UTC))  # it hangs
        assert site_waits_for(site, "/hang.xml")
        ticked.clear()
        scheduler.modify_job(TICK_JOB_ID, next_run_time=datetime.now(UTC))
        assert ticked.wait(30)  # a tick ran while the poll hung
        assert not answer.is_set()
    finally:
        answer.set()
        scheduler.shutdown(wait=True)
        engine.dispose()


def site_waits_for(site: Site, path: str) -> bool:
    done = threading.Event()
    for _ in range(3000):
        if site.requests_to(path):
            return True
        done.wait(0.01)
    return False
