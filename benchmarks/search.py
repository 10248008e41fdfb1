"""Search latency on 100,000 generated briefs, beside a naive LIKE scan; and the HTTP app's
overhead beside a bare Bolt app that only acks.

    python -m benchmarks.search [--briefs 100000] [--queries 300] [--postgres URL]
                                [--sqlite PATH] [--uniform] [--no-title-index]

Goals: search p99 <= 20 ms and >= 50x faster than the scan; HTTP p50/p99 <= 2x the bare app.

The briefs are generated from the demo corpus's vocabulary with its word frequencies
(benchmarks/corpus.py: a few words are in most briefs, most words in a few percent);
`--uniform` draws every word equally often (every word then matches 15-40% of the briefs).
Query words are drawn uniformly from the vocabulary, so most are ordinary words; the
20 most frequent words (in 75-90% of the briefs) are measured on their own as the worst
case, and so are two-word queries and queries with a filter. Each search returns what
`/policy` shows: the count and the first page of 5, ranked.

The naive scan answers the same question the simple way: `ILIKE '%word%'` over titles,
summaries and comments, a count and the newest 5 (it does not rank).

On PostgreSQL the title tier of the ranking is found through a GIN index on the titles'
lexemes, which the schema does not have yet (a proposed migration; see
data/search/engines.py). The benchmark creates it in its scratch database unless
`--no-title-index` is given, and says which it measured.
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

from benchmarks.corpus import generate_issue, query_words
from policybot.data import store
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief
from policybot.data.search.analysis import word_query
from policybot.data.store import BriefFilter

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


def fill(engine: Engine, briefs: int, uniform: bool) -> None:
    factory = session_factory(engine)
    with factory() as session:
        have = session.scalar(select(func.count()).select_from(Brief)) or 0
    if have >= briefs:
        print(f"  (reusing the {have:,} briefs already there)")
        return
    per_file = 2000
    for start in range(have, briefs, per_file):
        raw = generate_issue(min(per_file, briefs - start), seed=start, uniform=uniform).encode()
        with factory() as session, session.begin():
            ingest_bytes(session, raw, f"bench-{start}.txt", datetime.now(UTC))
        print(f"  ingested {min(start + per_file, briefs):,}", end="\r", flush=True)
    print()


TITLE_INDEX = "ix_brief_search_title"


def prepare_postgres(engine: Engine, title_index: bool) -> str:
    """ANALYZE, and the proposed title index (see the module docstring). Says what it did."""
    with engine.connect() as connection:
        present = connection.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": TITLE_INDEX})
        note = "title index present" if present else "no title index"
        if title_index and not present:
            connection.execute(
                text(f"CREATE INDEX {TITLE_INDEX} ON brief_search USING gin (ts_filter(document, '{{a}}'))")
            )
            note = "title index created here (the proposed migration)"
        elif present and not title_index:
            note = "title index present: --no-title-index cannot remove it"
        connection.execute(text("ANALYZE"))
        connection.commit()
    return note


def common_words(engine: Engine, words: list[str], count: int) -> list[str]:
    """The `count` words that match the most briefs."""
    factory = session_factory(engine)
    sizes = []
    with factory() as session:
        for word in words:
            term = word_query(word)
            if term is not None:
                sizes.append((store.search(session, BriefFilter(include=(term,)), 0).total, word))
    return [word for _, word in sorted(sizes, reverse=True)[:count]]


def search_latency(engine: Engine, queries: list[tuple[str, BriefFilter]]) -> list[float]:
    factory = session_factory(engine)
    pending = list(reversed(queries))

    def run_search() -> None:
        _, where = pending.pop()
        with factory() as session:
            store.search(session, where, 5)

    return timed(run_search, len(queries))


def scan_latency(engine: Engine, words: list[str]) -> list[float]:
    factory = session_factory(engine)
    pending = list(reversed(words))

    def run_scan() -> None:
        # The same answer the search gives (a count and the first page), the naive way.
        pattern = f"%{pending.pop()}%"
        matching = or_(Brief.title.ilike(pattern), Brief.summary.ilike(pattern), Brief.comment.ilike(pattern))
        with factory() as session:
            session.scalar(select(func.count()).select_from(Brief).where(matching))
            session.scalars(select(Brief).where(matching).order_by(Brief.published_on.desc()).limit(5)).all()

    return timed(run_scan, len(words))


def text_filter(session_engine: Engine, text_: str) -> BriefFilter:
    """The filter `/policy <text_>` searches with (words, bodies, filters)."""
    from policybot.data.query.compiler import build_filter
    from policybot.data.query.language import parse_query

    with session_factory(session_engine)() as session:
        return build_filter(session, parse_query(text_))[0]


def search_figures(engine: Engine, words: list[str], count: int) -> None:
    rng = random.Random(1)
    plain = [rng.choice(words) for _ in range(count)]
    common = common_words(engine, words, 20)
    cases: list[tuple[str, list[str]]] = [
        ("one word (uniform over the vocabulary)", plain),
        ("one of the 20 most frequent words", [rng.choice(common) for _ in range(max(40, count // 5))]),
        ("two words", [f"{rng.choice(words)} {rng.choice(words)}" for _ in range(max(40, count // 5))]),
        ("word + since:2025-01-01", [f"{rng.choice(words)} since:2025-01-01" for _ in range(max(40, count // 5))]),
        ("word + body:MIIT", [f"{rng.choice(words)} body:MIIT" for _ in range(max(40, count // 5))]),
    ]
    search_latency(engine, [(w, text_filter(engine, w)) for w in plain[:20]])  # warm up
    headline: list[float] = []
    for label, texts in cases:
        samples = search_latency(engine, [(t, text_filter(engine, t)) for t in texts])
        headline = headline or samples
        print(f"  search, {label + ':':<40} p50 {percentile(samples, 50):6.2f} ms   p99 {percentile(samples, 99):6.2f} ms")
    scan = scan_latency(engine, [rng.choice(words) for _ in range(max(20, count // 10))])
    p50, p99 = percentile(headline, 50), percentile(headline, 99)
    s50 = percentile(scan, 50)
    print(f"  LIKE scan, one word:{'':<29} p50 {s50:6.2f} ms   p99 {percentile(scan, 99):6.2f} ms")
    print(f"  one word: search p99 {p99:.2f} ms (goal <= 20 ms); {s50 / p50:,.0f}x faster than the scan at p50 (goal >= 50x)")


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

    from policybot.bot.app import build_app
    from policybot.bot.server import make_wsgi_app
    from policybot.bot.services import build_services
    from policybot.bot.settings import Settings
    from tests.fakeslack import FakeSlack

    fake = FakeSlack().start()  # Bolt calls auth.test on the first request of each app
    fake.set_user("U1")  # the asker, whom some replies look up (users.info)
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
    words = query_words()
    rng = random.Random(2)
    figures = {}
    for name, wsgi in (("bare Bolt app (ack only)", SlackRequestHandler(bare)), ("policybot HTTP app", ours)):
        server, url = _serve(wsgi)

        def one(url: str = url) -> None:
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--briefs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--postgres", help="PostgreSQL URL to benchmark too (a scratch database)")
    parser.add_argument("--sqlite", help="SQLite file to use and keep (default: a temporary file)")
    parser.add_argument("--uniform", action="store_true", help="every word equally frequent")
    parser.add_argument("--no-title-index", action="store_true", help="PostgreSQL: do not add the title index")
    args = parser.parse_args()
    words = query_words()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{args.sqlite or Path(tmp) / 'search.sqlite3'}"
        targets = [("SQLite", sqlite_url)] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
        corpus = "uniform word frequencies" if args.uniform else "demo-corpus word frequencies"
        for name, url in targets:
            engine = make_engine(url)
            upgrade(engine)
            print(f"{name}: {args.briefs:,} generated briefs ({corpus})")
            fill(engine, args.briefs, args.uniform)
            if engine.dialect.name == "postgresql":
                print(f"  {prepare_postgres(engine, not args.no_title_index)}")
            else:
                with engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
            search_figures(engine, words, args.queries)
            engine.dispose()
        print("HTTP (signed slash command, loopback):")
        http_figures(sqlite_url, max(100, args.queries))


if __name__ == "__main__":
    main()
