"""Commands under load: signed slash commands through the real HTTP server, beside a bare Bolt
app that only acks, in the same run.

The servers run in their own processes (so the clients' threads do not share their GIL); the
fake Slack runs here and records every response_url post. A reply's latency is the FULL
time until the user sees it: the HTTP answer when the ack carries the reply, otherwise the
moment the deferred reply reaches the fake Slack's response_url.

    python -m benchmarks.load                      # 10,000 briefs, SQLite
    python -m benchmarks.load --briefs 100000
    python -m benchmarks.load --db postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from benchmarks.corpus import generate_issue, query_words

SECRET = "load-benchmark-signing-secret"
TOKEN = "xoxb-load-benchmark-token"
SLACK_WINDOW = 3.0
WORKING = "Working on it"
ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- server processes


def serve_policybot(port: int, db: str, api_url: str) -> None:
    from policybot.bot.app import build_app
    from policybot.bot.server import GracefulServer, make_wsgi_app, waitress_limits
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
    app = build_app(services, token_verification=False)
    limits = waitress_limits(settings)
    GracefulServer(make_wsgi_app(app, services), "127.0.0.1", port, **limits).run()


def serve_bare_bolt(port: int, api_url: str) -> None:
    """The floor: Bolt and waitress with the same limits, a listener that only acks."""
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from policybot.bot.server import GracefulServer, waitress_limits
    from policybot.bot.settings import Settings

    app = App(
        client=WebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
    )

    @app.command("/policy")
    def ack_only(ack: Ack) -> None:
        ack(text="ok", response_type="ephemeral")

    settings = Settings.from_env(dict(os.environ), database_url="sqlite://")
    limits = waitress_limits(settings)
    GracefulServer(SlackRequestHandler(app), "127.0.0.1", port, **limits).run()


# ---------------------------------------------------------------- the corpus


def build_corpus(db: str, briefs: int) -> None:
    from sqlalchemy import func, select

    from policybot.data.db import make_engine, session_factory, upgrade
    from policybot.data.ingest.writer import ingest_bytes
    from policybot.data.models import Brief

    engine = make_engine(db)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        have = session.scalar(select(func.count()).select_from(Brief)) or 0
    if have >= briefs:
        print(f"corpus: reusing {have:,} briefs")
        engine.dispose()
        return
    per_file = 2000
    started = time.perf_counter()
    for start in range(0, briefs, per_file):
        raw = generate_issue(min(per_file, briefs - start), seed=start).encode()
        with sessions() as session, session.begin():
            ingest_bytes(session, raw, f"load-{start}.txt", datetime.now(UTC))
    engine.dispose()
    print(f"corpus: {briefs:,} briefs in {time.perf_counter() - started:.0f} s")


# ---------------------------------------------------------------- clients


@dataclass
class Outcome:
    seconds: float | None  # None: no reply within the wait
    deferred: bool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except urllib.error.HTTPError:
            return  # the bare app has no /healthz: any HTTP answer means it is up
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on {port} did not start")


def one_command(url: str, text: str, key: str, fake: object, wait: float) -> Outcome:
    from tests.fakeslack import FakeSlack

    assert isinstance(fake, FakeSlack)
    form = {
        "token": "x",
        "team_id": "T1",
        "channel_id": "C100",
        "user_id": "U100",
        "user_name": "analyst",
        "command": "/policy",
        "text": text,
        "response_url": fake.response_url(key),
        "trigger_id": key,
    }
    body = urlencode(form)
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
        or "",
    }
    started = time.monotonic()
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=wait) as response:
            answer = response.read().decode()
    except OSError:
        return Outcome(None, False)
    if WORKING not in answer:
        return Outcome(time.monotonic() - started, False)
    path = f"/response/{key}"
    left = wait - (time.monotonic() - started)
    call = fake.wait_for_call(lambda c: c.path == path, max(0.0, left))
    return Outcome(None if call is None else call.at - started, True)


def run_clients(
    url: str, texts: list[str], clients: int, per_client: int, fake: object, label: str
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    rng = random.Random(clients)

    def client(n: int) -> None:
        for i in range(per_client):
            key = f"{label.replace(' ', '-')}-{clients}-{n}-{i}"  # a URL path segment
            outcome = one_command(url, rng.choice(texts), key, fake, 20)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def summarize(label: str, clients: int, outcomes: list[Outcome], elapsed: float) -> str:
    done = sorted(o.seconds for o in outcomes if o.seconds is not None)
    lost = len(outcomes) - len(done)
    late = sum(1 for s in done if s > SLACK_WINDOW) + lost
    deferred = sum(1 for o in outcomes if o.deferred)
    if done:
        p50 = statistics.median(done) * 1000
        p99 = done[min(len(done) - 1, int(len(done) * 0.99))] * 1000
    else:
        p50 = p99 = float("nan")
    return (
        f"{label:<22} {clients:>3} clients  {len(outcomes) / elapsed:7.1f} req/s  "
        f"p50 {p50:7.0f} ms  p99 {p99:7.0f} ms  >3s {late:>3}/{len(outcomes):<4} "
        f"deferred {deferred:>3}  no reply {lost}"
    )


def measure(
    url: str, label: str, texts: list[str], levels: list[int], per: dict[int, int], fake: object
) -> dict[int, tuple[float, float]]:
    figures = {}
    run_clients(url, texts, 2, 3, fake, f"warm-{label}")
    for clients in levels:
        started = time.monotonic()
        outcomes = run_clients(url, texts, clients, per[clients], fake, label)
        elapsed = time.monotonic() - started
        print(summarize(label, clients, outcomes, elapsed), flush=True)
        done = sorted(o.seconds for o in outcomes if o.seconds is not None)
        p99 = done[min(len(done) - 1, int(len(done) * 0.99))] if done else float("inf")
        figures[clients] = (len(outcomes) / elapsed, p99)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--briefs", type=int, default=10_000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--levels", default="1,20,50", help="concurrent clients")
    parser.add_argument("--requests", type=int, default=200, help="searches per level")
    parser.add_argument("--heavy", type=int, default=2, help="heavy commands per client")
    parser.add_argument("--serve", choices=["policybot", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "policybot":
        return serve_policybot(args.port, args.db, args.api_url)
    if args.serve == "bare":
        return serve_bare_bolt(args.port, args.api_url)

    from tests.fakeslack import FakeSlack

    levels = [int(n) for n in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'load.sqlite3'}"
        build_corpus(db, args.briefs)
        with FakeSlack() as fake:
            servers = {}
            for name in ("bare", "policybot"):
                port = free_port()
                command = [sys.executable, "-m", "benchmarks.load", "--serve", name]
                command += ["--port", str(port), "--db", db, "--api-url", fake.url]
                env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYBOT_LOG_LEVEL": "ERROR"}
                process = subprocess.Popen(command, env=env, cwd=ROOT)
                servers[name] = (port, process)
            try:
                for port, process in servers.values():
                    wait_healthy(port, process)
                bare_url = f"http://127.0.0.1:{servers['bare'][0]}/slack/events"
                bot_url = f"http://127.0.0.1:{servers['policybot'][0]}/slack/events"
                words = query_words()[:40]
                searches = [" ".join(random.Random(i).sample(words, 1 + i % 2)) for i in range(40)]
                per = {n: max(1, args.requests // n) for n in levels}
                print(f"\n{args.briefs:,} briefs, {db.split(':')[0]}; full reply latency")
                bare = measure(bare_url, "bare Bolt ack", searches, levels, per, fake)
                ours = measure(bot_url, "policybot search", searches, levels, per, fake)
                heavy = ["deadlines", "deadlines within 5y", "scorecard", "scorecard storage"]
                measure(
                    bot_url,
                    "policybot heavy",
                    heavy,
                    levels,
                    dict.fromkeys(levels, args.heavy),
                    fake,
                )
                print("\nsearch vs bare Bolt (goal: throughput >= 0.5x, p99 <= 2x)")
                for n in levels:
                    print(
                        f"  {n:>3} clients: throughput {ours[n][0] / bare[n][0]:.2f}x, "
                        f"p99 {ours[n][1] / bare[n][1]:.2f}x"
                    )
            finally:
                for _port, process in servers.values():
                    process.terminate()
                    process.wait(timeout=30)


if __name__ == "__main__":
    main()
