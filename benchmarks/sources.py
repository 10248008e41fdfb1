"""Watched sources: how fast a poll turns a feed's documents into briefs, beside the bare
fetch time of the same documents from the same local server in the same run, and the share
of the generated Chinese documents' targets that come out with the right deadline.

    python -m benchmarks.sources [--items 200]

A local server serves an RSS feed of N ministry-style Chinese document pages (each with a
`到20XX年` target and a `2025年底前` target). Politeness spacing is 0 here (the server is
ours); in production each host is read at most once every 3 s, so a poll of a real site
takes at least 3 s per new document whatever this figure says.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.fetch import Fetcher, FetchPolicy
from policybot.data.models import Brief, Goal
from policybot.data.search.shared import configure as configure_search_index
from policybot.data.watch import store
from policybot.scheduler.polling import Poller
from tests.conftest import NOW
from tests.watch.web import Resource, document_page, rss, serving

POLICY = FetchPolicy(allow_private=True, timeout=10.0, spacing=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=200, help="documents in the feed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, serving() as site:
        configure_search_index(str(Path(folder) / "index"))
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        upgrade(engine)
        sessions = session_factory(engine)
        published = NOW.date() - timedelta(days=1)
        entries, expected = [], {}
        for number in range(args.items):
            title, html, years = document_page(number, published)
            path = f"/art/t{published:%Y%m%d}_{number:05d}.html"
            site.routes[path] = Resource(html)
            entries.append((title, site.url(path), published))
            expected[site.url(path)] = sorted(years)
        site.routes["/feed.xml"] = Resource(rss(entries), content_type="application/rss+xml")

        # The baseline: the same feed and documents fetched, nothing read or written.
        fetcher = Fetcher(POLICY)
        started = time.perf_counter()
        fetcher.get(site.url("/feed.xml"))
        for _, url, _ in entries:
            fetcher.get(url)
        bare = time.perf_counter() - started

        with sessions() as session, session.begin():
            request = store.parse_source_request(site.url("/feed.xml") + " every 1h")
            store.add_source(session, "T1", "U1", request, NOW, POLICY)
        poller = Poller(sessions, Fetcher(POLICY), items_per_poll=args.items)
        started = time.perf_counter()
        report = poller.poll(NOW)
        polled = time.perf_counter() - started
        started = time.perf_counter()
        again = poller.poll(NOW + timedelta(hours=1))
        conditional = time.perf_counter() - started
        assert report.taken == args.items, report
        assert again.polls[0].not_modified

        right = total = 0
        with sessions() as session:
            for brief in session.scalars(select(Brief)):
                years = [
                    g.due_on.year
                    for g in session.scalars(select(Goal).where(Goal.brief_id == brief.id))
                    if g.due_on
                ]
                wanted = next(expected[link] for link in brief.links if link in expected)
                total += len(wanted)
                right += sum(1 for year in wanted if year in years)
        engine.dispose()

    count = args.items
    print(f"documents in the feed            {count}")
    print(f"bare fetch (feed + documents)    {bare:7.2f} s  {count / bare:7.1f} documents/s")
    print(f"poll (fetch, read, write briefs) {polled:7.2f} s  {count / polled:7.1f} items/s")
    print(f"share of the poll spent fetching {100 * bare / polled:6.1f}%")
    print(f"conditional re-poll (304)        {1000 * conditional:7.1f} ms")
    print(f"targets with the right deadline  {right}/{total} ({100 * right / total:.1f}%)")


if __name__ == "__main__":
    main()
