"""What one signed command costs in CPU inside the server process, beside a bare Bolt app
that only acks, in the same run.

Both apps are built the way `benchmarks.load` serves them (policybot: settings, services,
`build_app`, the WSGI app with its edge checks; bare: Bolt with one listener that acks) and
called directly as WSGI apps with signed requests, one at a time. A request's cost is the
process CPU time (every thread: Bolt's listener pool, the command pool) from the call until
its reply is in hand; searches are answered in the ack, so that is when the WSGI call
returns. The heavy commands are timed the same way once the dispatcher has learnt they are
slow (their reply then goes to the fake Slack's response_url, waited for here).

    python -m benchmarks.command_cost                       # 10,000 briefs, SQLite
    python -m benchmarks.command_cost --briefs 100000 --heavy-only
    python -m benchmarks.command_cost --profile search      # cProfile of the searches
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from wsgiref.types import WSGIApplication

from slack_sdk.signature import SignatureVerifier

from benchmarks.corpus import query_words
from benchmarks.load import SECRET, TOKEN, WORKING, bare_bolt_wsgi, build_corpus, command_form
from tests.fakeslack import FakeSlack

HEAVY = [
    "deadlines",
    "deadlines within 5y",
    "deadlines storage",
    "scorecard",
    "scorecard storage",
    "scorecard energy",
]


def policybot_wsgi(db: str, api_url: str) -> WSGIApplication:
    """As `benchmarks.load.serve_policybot` builds it, without the HTTP server."""
    from policybot.bot.app import build_app
    from policybot.bot.server.routes import make_wsgi_app
    from policybot.bot.services import build_services
    from policybot.bot.settings import Settings

    settings = Settings.from_env(
        dict(os.environ),
        database_url=db,
        bot_token=TOKEN,
        signing_secret=SECRET,
        api_url=api_url,
        load_demo=False,
    )
    services = build_services(settings, clock=lambda: datetime(2026, 11, 29, 9, tzinfo=UTC))
    return make_wsgi_app(build_app(services, token_verification=False), services)


def signed_environ(text: str, key: str, fake: FakeSlack) -> dict[str, Any]:
    body = urlencode(command_form(text, key, fake.response_url(key))).encode()
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body.decode())
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": ts,
        "HTTP_X_SLACK_SIGNATURE": signature or "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }


def call(app: WSGIApplication, environ: dict[str, Any]) -> bytes:
    status: list[str] = []

    def start_response(line: str, _headers: Any, _exc: Any = None) -> Callable[[bytes], object]:
        status.append(line)
        return lambda _data: None

    body = b"".join(app(environ, start_response))
    if not status or not status[0].startswith("200"):
        raise SystemExit(f"request refused: {status} {body[:200]!r}")
    return body


# PostgreSQL: the backends whose CPU counts with ours (set by main; /proc ticks are 10 ms,
# so a figure is only meaningful as a mean over many requests).
DATABASE_CPU: list[Callable[[], float]] = []


def one(app: WSGIApplication, text: str, key: str, fake: FakeSlack) -> tuple[float, float]:
    """(CPU ms, wall ms) of one command until its reply is in hand (with the database's
    own CPU, on PostgreSQL)."""
    environ = signed_environ(text, key, fake)
    cpu, wall = process_and_database_cpu(), time.perf_counter()
    answer = call(app, environ)
    deferred = WORKING.encode() in answer  # the reply goes to the response_url
    if deferred and fake.wait_for_call(lambda c: c.path == f"/response/{key}", 30) is None:
        raise SystemExit(f"no reply for {text!r}")
    return (process_and_database_cpu() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def process_and_database_cpu() -> float:
    return time.process_time() + sum(read() for read in DATABASE_CPU)


def measure(
    app: WSGIApplication, texts: Iterable[str], label: str, fake: FakeSlack, rounds: int
) -> list[float]:
    cpu: list[float] = []
    texts = list(texts)
    for r in range(rounds):
        for i, text in enumerate(texts):
            cpu.append(one(app, text, f"{label}-{r}-{i}", fake)[0])
    return cpu


def search_mix(count: int) -> list[str]:
    """The load benchmark's searches (one or two common words), with a few questions,
    phrases, filters and pages, as people type them."""
    words = query_words()[:40]
    plain = [" ".join(random.Random(i).sample(words, 1 + i % 2)) for i in range(40)]
    other = [
        f'"{words[0]} {words[1]}"',
        f"{words[2]} body:MIIT",
        f"{words[3]} since:2024-01-01",
        f"what did NDRC publish about {words[4]}",
        f"{words[5]} -{words[6]}",
        f"{words[7]} page:2",
        "zzqx unknownword",  # no match: hints are worked out
    ]
    mix = plain[: count - len(other)] + other
    return mix


def figures(label: str, cpu: list[float]) -> str:
    cpu = sorted(cpu)
    p90 = cpu[min(len(cpu) - 1, int(len(cpu) * 0.9))]
    return (
        f"{label:<28} n={len(cpu):<4} CPU ms/request: mean {statistics.fmean(cpu):6.2f}  "
        f"median {statistics.median(cpu):6.2f}  p90 {p90:6.2f}"
    )


def profile_threads() -> list[cProfile.Profile]:
    """A profiler in every thread started from now on (Bolt's listener pool, the command
    pool): the work of a request happens mostly off the calling thread."""
    profiles: list[cProfile.Profile] = []

    def start(_frame: object, _event: str, _arg: object) -> None:
        profiler = cProfile.Profile()
        profiles.append(profiler)
        profiler.enable()  # replaces this hook in the thread

    threading.setprofile(start)
    return profiles


def profile(
    app: WSGIApplication,
    texts: list[str],
    fake: FakeSlack,
    rounds: int,
    threads: list[cProfile.Profile],
) -> None:
    main_thread = cProfile.Profile()
    for profiler in threads:
        profiler.clear()
    main_thread.enable()
    measure(app, texts, "profile", fake, rounds)
    main_thread.disable()
    out = io.StringIO()
    stats = pstats.Stats(main_thread, stream=out)
    for profiler in threads:
        profiler.create_stats()
        if getattr(profiler, "stats", None):  # a thread that ran nothing has none
            stats.add(pstats.Stats(profiler))
    stats.sort_stats(os.environ.get("SORT", "cumulative")).print_stats(70)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--briefs", type=int, default=10_000)
    parser.add_argument("--db", help="database URL (default: a SQLite file under /tmp)")
    parser.add_argument("--rounds", type=int, default=5, help="times through the search mix")
    parser.add_argument("--heavy-rounds", type=int, default=3)
    parser.add_argument("--heavy-only", action="store_true")
    parser.add_argument("--profile", choices=["search", "heavy"])
    args = parser.parse_args()

    db = args.db or f"sqlite:///{Path(tempfile.gettempdir()) / f'command-cost-{args.briefs}.db'}"
    build_corpus(db, args.briefs)
    if db.startswith("postgresql"):
        from benchmarks.heavy_replies import backend_pids, cpu_of
        from policybot.data.db import make_engine

        watcher = make_engine(db)
        DATABASE_CPU.append(lambda: sum(cpu_of(pid) for pid in backend_pids(watcher)))
    with FakeSlack() as fake:
        threads = profile_threads() if args.profile else []
        ours = policybot_wsgi(db, fake.url)
        bare = bare_bolt_wsgi(fake.url)
        searches = search_mix(40)
        # Warm both (imports, caches, connections) and teach the dispatcher what is slow.
        measure(bare, searches[:5], "warm-bare", fake, 1)
        measure(ours, searches + HEAVY, "warm-ours", fake, 1)
        if args.profile:
            texts = searches if args.profile == "search" else HEAVY
            return profile(ours, texts, fake, args.rounds, threads)
        where = "in process" + (" + database" if DATABASE_CPU else "")
        print(f"\n{args.briefs:,} briefs, {db.split(':')[0]}; CPU per request, {where}")
        print(figures("bare Bolt ack", measure(bare, searches, "bare", fake, args.rounds)))
        if not args.heavy_only:
            print(figures("policybot search", measure(ours, searches, "s", fake, args.rounds)))
        for n, text in enumerate(HEAVY):
            # A key of its own per command: a deferred reply is waited for by its key.
            cpu = measure(ours, [text], f"h{n}", fake, args.heavy_rounds)
            print(figures(f"policybot {text}", cpu))


if __name__ == "__main__":
    main()
