"""Search latency on 100,000 generated briefs, beside a naive LIKE scan; and the HTTP app's
overhead beside a bare Bolt app that only acks.

    python -m benchmarks.search [--briefs 100000] [--queries 300] [--postgres URL]

Goals: search p99 <= 20 ms and >= 50x faster than the scan; HTTP p50/p99 <= 2x the bare app.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, func, or_, select, text
from waitress.server import create_server

from benchmarks.corpus import demo_words, generate_issue
from data import store
from data.db import make_engine, session_factory, upgrade
from data.ingest.writer import ingest_bytes
from data.models import Brief
from data.search.analysis import word_query
from data.store import BriefFilter

SECRET = "benchmark-signing-secret"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(run: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def fill(engine: Engine, briefs: int) -> None:
    factory = session_factory(engine)
    with factory() as session:
        if (session.scalar(select(func.count()).select_from(Brief)) or 0) >= briefs:
            return
    per_file = 2000
    for start in range(0, briefs, per_file):
        raw = generate_issue(min(per_file, briefs - start), seed=start).encode()
        with factory() as session, session.begin():
            ingest_bytes(session, raw, f"bench-{start}.txt", datetime.now(UTC))
        print(f"  ingested {start + per_file:,}", end="\r", flush=True)
    print()


def search_figures(engine: Engine, words: list[str], count: int) -> None:
    factory = session_factory(engine)
    rng = random.Random(1)
    queries = [rng.choice(words) for _ in range(count)]

    def run_search() -> None:
        word = queries.pop()
        term = word_query(word)
        with factory() as session:
            store.search(session, BriefFilter(include=(term,) if term else ()), 5)

    def run_scan() -> None:
        # The same answer the search gives (a count and the first page), the naive way.
        word = queries.pop()
        pattern = f"%{word}%"
        matching = or_(Brief.title.ilike(pattern), Brief.summary.ilike(pattern), Brief.comment.ilike(pattern))
        with factory() as session:
            session.scalar(select(func.count()).select_from(Brief).where(matching))
            session.scalars(select(Brief).where(matching).order_by(Brief.published_on.desc()).limit(5)).all()

    search = timed(run_search, count)
    queries[:] = [rng.choice(words) for _ in range(max(20, count // 10))]
    scan = timed(run_scan, len(queries))
    p50, p99 = percentile(search, 50), percentile(search, 99)
    s50 = percentile(scan, 50)
    print(f"  search  p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   (goal p99 <= 20 ms)")
    print(f"  LIKE    p50 {s50:7.2f} ms   p99 {percentile(scan, 99):7.2f} ms")
    print(f"  search is {s50 / p50:,.0f}x faster than the scan at p50 (goal >= 50x)")


def _serve(wsgi: object) -> tuple[object, str]:
    server = create_server(wsgi, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()  # type: ignore[attr-defined]
    return server, f"http://127.0.0.1:{server.effective_port}/slack/events"  # type: ignore[attr-defined]


def _signed_post(url: str, body: str) -> None:
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def http_figures(database_url: str, count: int) -> None:
    from slack_sdk import WebClient

    from bot.app import build_app
    from bot.server import make_wsgi_app
    from bot.services import build_services
    from bot.settings import Settings
    from tests.fakeslack import FakeSlack

    fake = FakeSlack().start()  # Bolt calls auth.test on the first request of each app
    settings = Settings.from_env(
        {},
        database_url=database_url,
        bot_token="xoxb-bench",
        signing_secret=SECRET,
        load_demo=False,
        api_url=fake.url,
    )
    services = build_services(settings)
    ours = make_wsgi_app(build_app(services, token_verification=False), services)
    bare = App(
        client=WebClient(token="xoxb-bench", base_url=fake.url),
        signing_secret=SECRET,
        token_verification_enabled=False,
    )
    bare.command("/policy")(lambda ack: ack("ok"))
    words = demo_words()
    rng = random.Random(2)
    figures = {}
    for name, wsgi in (("bare Bolt app (ack only)", SlackRequestHandler(bare)), ("policybot HTTP app", ours)):
        server, url = _serve(wsgi)

        def one() -> None:
            form = {"command": "/policy", "text": rng.choice(words), "team_id": "T1", "channel_id": "C1",
                    "user_id": "U1", "response_url": "http://127.0.0.1:9/unused", "trigger_id": uuid.uuid4().hex}
            _signed_post(url, urlencode(form))

        timed(one, 20)  # warm up
        samples = timed(one, count)
        figures[name] = samples
        server.close()  # type: ignore[attr-defined]
        print(f"  {name:<26} p50 {percentile(samples, 50):7.2f} ms   p99 {percentile(samples, 99):7.2f} ms")
    bare_p50 = percentile(figures["bare Bolt app (ack only)"], 50)
    ours_p50 = percentile(figures["policybot HTTP app"], 50)
    bare_p99 = percentile(figures["bare Bolt app (ack only)"], 99)
    ours_p99 = percentile(figures["policybot HTTP app"], 99)
    print(f"  policybot / bare: p50 {ours_p50 / bare_p50:.2f}x, p99 {ours_p99 / bare_p99:.2f}x (goal <= 2x)")
    services.close()
    fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--briefs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--postgres", help="PostgreSQL URL to benchmark too (a scratch database)")
    args = parser.parse_args()
    words = [w for w in demo_words() if len(w) > 4]
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'search.sqlite3'}"
        targets = [("SQLite", sqlite_url)] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
        for name, url in targets:
            engine = make_engine(url)
            upgrade(engine)
            print(f"{name}: generating {args.briefs:,} briefs")
            fill(engine, args.briefs)
            with engine.connect() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(text("ANALYZE"))
            search_figures(engine, words, args.queries)
            engine.dispose()
        print("HTTP (signed slash command, loopback):")
        http_figures(sqlite_url, max(100, args.queries))


if __name__ == "__main__":
    main()
