"""Commands under load: signed slash commands through the real HTTP server, beside a bare Bolt
app that only acks, in the same run.

The servers run in their own processes (so the clients' threads do not share their GIL):
policybot is the real `policybot serve` (`--workers N`: gunicorn with N worker processes on
one port), the bare app runs under gunicorn too, with the same number of worker processes and
request threads (gunicorn's stock threaded worker), so each policybot figure has a floor with
the same number of processes beside it. The fake Slack runs here and records every
response_url post. A reply's latency is the FULL time until the user sees it: the HTTP
answer when the ack carries the reply, otherwise the moment the deferred reply reaches the
fake Slack's response_url.

Bolt's request thread looks for the ack every 10 ms (slack_bolt's thread runner sleeps
0.01 s between looks), so a latency is never below ~10 ms and one process with T request
threads cannot ack more than T / 10 ms. The `cpu/req` column (CPU of the server's
processes per request, from /proc) does not depend on that polling, and the printout says
where a figure sits at the polling ceiling.

The searches are an analyst's mix drawn from benchmarks/corpus.py's vocabulary (by its
frequencies): two to four words, a body filter, a Chinese term, a quoted phrase from the
stored titles, a date filter with an exclusion, a question, a page.

    python -m benchmarks.load                      # 10,000 briefs, SQLite, one process
    python -m benchmarks.load --workers 2          # policybot and the bare app on 2 processes
    python -m benchmarks.load --briefs 100000 --only heavy --workers 2
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
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from benchmarks.corpus import BODIES, CJK_WORDS, WordSource, generate_issue, query_words
from policybot.bot.server.arbiter import PolicybotServer
from policybot.bot.server.routes import WORKER_HEADER, WsgiApp, tag_worker
from policybot.bot.settings import Settings

SECRET = "load-benchmark-signing-secret"
TOKEN = "xoxb-load-benchmark-token"
SLACK_WINDOW = 3.0
WORKING = "Working on it"
ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-29T09:00:00+00:00"  # the moment the deadlines and scorecard are counted from
ACK_POLL_SECONDS = 0.01  # slack_bolt's thread runner: how often the request thread looks
HEAVY = ["deadlines", "deadlines within 5y", "scorecard", "scorecard storage"]


# ---------------------------------------------------------------- server processes


def policybot_command(port: int, db: str, workers: int) -> list[str]:
    """The real `policybot serve` (the scheduler off: it would compete for the same CPU)."""
    command = [sys.executable, "-m", "policybot.bot", "--db", db, "--now", NOW, "serve"]
    return command + ["--port", str(port), "--workers", str(workers)]


def policybot_env(api_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "POLICYBOT_HOST": "127.0.0.1",
        "POLICYBOT_LOAD_DEMO": "0",
        "POLICYBOT_SCHEDULER": "0",
    }


def bare_bolt_wsgi(api_url: str) -> WsgiApp:
    """The floor: Bolt with one listener that only acks."""
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(
        client=WebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
    )

    @app.command("/policy")
    def ack_only(ack: Ack) -> None:
        ack(text="ok", response_type="ephemeral")

    return SlackRequestHandler(app)


def serve_bare_bolt(port: int, api_url: str, workers: int) -> None:
    """The bare app under gunicorn with policybot's worker count and request threads."""
    from gunicorn.app.base import BaseApplication

    settings = bare_settings()

    class BareBolt(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
        def load_config(self) -> None:
            for name, value in {
                "bind": [f"127.0.0.1:{port}"],
                "workers": workers,
                "worker_class": "gthread",
                "threads": settings.http_threads,
                "worker_connections": settings.connection_limit,
                "keepalive": settings.idle_timeout,
                "loglevel": "error",
                "control_socket_disable": True,
                # Worker indexes as policybot's (X-Policybot-Worker tells who answered).
                "pre_fork": PolicybotServer.assign_index,
                "post_fork": lambda _arbiter, worker: os.environ.update(
                    BARE_WORKER_INDEX=str(worker.index)
                ),
            }.items():
                self.cfg.set(name, value)

        def load(self) -> WsgiApp:  # in each worker (no preload)
            return tag_worker(bare_bolt_wsgi(api_url), int(os.environ["BARE_WORKER_INDEX"]))

    BareBolt().run()


def bare_settings() -> Settings:
    return Settings.from_env(dict(os.environ), database_url="sqlite://")


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


def search_mix(db: str, count: int = 40, seed: int = 13) -> list[str]:
    """What analysts type: several words (drawn by their frequency in the corpus), a body
    filter, a Chinese term, a quoted phrase from a stored title, a date filter with an
    exclusion, a question, a second page. Seeded: runs compare."""
    from sqlalchemy import select

    from policybot.data.db import make_engine, session_factory
    from policybot.data.models import Brief

    rng = random.Random(seed)
    searchable = set(query_words())
    source = WordSource(rng)

    def words(n: int) -> list[str]:
        found: list[str] = []
        while len(found) < n:
            found += [w for w in source.draw(n) if w in searchable and w not in found]
        return found[:n]

    engine = make_engine(db)
    with session_factory(engine)() as session:
        titles = list(session.scalars(select(Brief.title).order_by(Brief.id).limit(500)))
    engine.dispose()
    phrases = []
    for title in rng.sample(titles, min(len(titles), count)):
        parts = [w.lower() for w in title.split() if len(w) > 3]
        if len(parts) >= 2:
            at = rng.randrange(len(parts) - 1)
            phrases.append(f'"{parts[at]} {parts[at + 1]}"')
    kinds = [
        lambda: " ".join(words(rng.randint(2, 4))),
        lambda: " ".join(words(rng.randint(2, 4))),
        lambda: " ".join(words(rng.randint(2, 4))),
        lambda: " ".join(words(rng.randint(1, 2))) + f" body:{rng.choice(BODIES)}",
        lambda: rng.choice(CJK_WORDS) + ("" if rng.random() < 0.5 else " " + words(1)[0]),
        lambda: rng.choice(phrases),
        lambda: " ".join(words(2)) + f" since:{rng.randint(2021, 2025)}-01-01 -{words(1)[0]}",
        lambda: f"what did {rng.choice(BODIES)} publish about {' '.join(words(2))}",
        lambda: " ".join(words(2)) + " page:2",
    ]
    return [kinds[i % len(kinds)]() for i in range(count)]


# ---------------------------------------------------------------- clients


@dataclass
class Outcome:
    seconds: float | None  # None: no reply within the wait
    deferred: bool
    worker: str | None = None  # the worker process that answered (pre-forked servers)


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


def command_form(text: str, key: str, response_url: str) -> dict[str, str]:
    """A slash command's form as Slack posts it, `key` naming its reply."""
    return {
        "token": "x",
        "team_id": "T1",
        "channel_id": "C100",
        "user_id": "U100",
        "user_name": "analyst",
        "command": "/policy",
        "text": text,
        "response_url": response_url,
        "trigger_id": key,
    }


def one_command(url: str, text: str, key: str, fake: object, wait: float) -> Outcome:
    from tests.fakeslack import FakeSlack

    assert isinstance(fake, FakeSlack)
    body = urlencode(command_form(text, key, fake.response_url(key)))
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
            worker = response.headers.get(WORKER_HEADER)
    except OSError:
        return Outcome(None, False)
    if WORKING not in answer:
        return Outcome(time.monotonic() - started, False, worker)
    path = f"/response/{key}"
    left = wait - (time.monotonic() - started)
    call = fake.wait_for_call(lambda c: c.path == path, max(0.0, left))
    return Outcome(None if call is None else call.at - started, True, worker)


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


def cpu_seconds(pid: int) -> float:
    """CPU used so far by a process and its live descendants (the pre-forked workers)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text()
                stack += [int(child) for child in children.split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended between two reads
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str  # "bare 1", "bare N", "policybot"
    port: int
    process: subprocess.Popen[bytes]
    workers: int  # its processes

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    @property
    def procs(self) -> str:
        return f"{self.workers} proc" + ("s" if self.workers > 1 else "")


@dataclass
class Figures:
    throughput: float
    p50: float
    p99: float
    cpu_ms: float  # server CPU per request
    by_worker: Counter[str | None] = field(default_factory=Counter)


def summarize(label: str, clients: int, outcomes: list[Outcome], elapsed: float, cpu: float) -> str:
    done = sorted(o.seconds for o in outcomes if o.seconds is not None)
    lost = len(outcomes) - len(done)
    late = sum(1 for s in done if s > SLACK_WINDOW) + lost
    deferred = sum(1 for o in outcomes if o.deferred)
    if done:
        p50 = statistics.median(done) * 1000
        p99 = done[min(len(done) - 1, int(len(done) * 0.99))] * 1000
    else:
        p50 = p99 = float("nan")
    shares = Counter(o.worker for o in outcomes if o.worker is not None)
    by_worker = "/".join(f"{100 * shares[w] / len(outcomes):.0f}" for w in sorted(shares))
    return (
        f"{label:<30} {clients:>3} clients  {len(outcomes) / elapsed:7.1f} req/s  "
        f"p50 {p50:7.0f} ms  p99 {p99:7.0f} ms  >3s {late:>3}/{len(outcomes):<4} "
        f"deferred {deferred:>3}  no reply {lost}  cpu/req {1000 * cpu / len(outcomes):6.1f} ms"
        + (f"  by worker % {by_worker}" if by_worker else "")
    )


def warm(server: Server, texts: list[str], fake: object, label: str) -> None:
    """Until every worker has answered (each builds its own search index on first use)."""
    expected: set[str | None] = {str(n) for n in range(server.workers)}  # gunicorn: even 1
    seen: set[str | None] = set()
    deadline = time.monotonic() + 300
    round_ = 0
    while not expected <= seen and time.monotonic() < deadline:
        outcomes = run_clients(server.url, texts, 4, 2, fake, f"warm-{label}-{round_}")
        seen |= {o.worker for o in outcomes if o.seconds is not None}
        round_ += 1
    if not expected <= seen:
        raise SystemExit(f"{label}: workers {sorted(map(str, expected - seen))} never answered")


def measure(
    server: Server,
    label: str,
    texts: list[str],
    levels: list[int],
    per: dict[int, int],
    fake: object,
) -> dict[int, Figures]:
    figures = {}
    label = f"{label} ({server.procs})"
    # A word search first: each worker builds its search index on first use (seconds at
    # 100,000 briefs), which must not land in a measured level; `deadlines` does not need it.
    warm(server, ["storage"], fake, "index-" + label.replace(" ", "-"))
    warm(server, texts, fake, label.replace(" ", "-"))
    for clients in levels:
        cpu_before = cpu_seconds(server.process.pid)
        started = time.monotonic()
        outcomes = run_clients(server.url, texts, clients, per[clients], fake, label)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(server.process.pid) - cpu_before
        print(summarize(label, clients, outcomes, elapsed, cpu), flush=True)
        done = sorted(o.seconds for o in outcomes if o.seconds is not None)
        p99 = done[min(len(done) - 1, int(len(done) * 0.99))] if done else float("inf")
        p50 = statistics.median(done) if done else float("inf")
        shares = Counter(o.worker for o in outcomes)
        figures[clients] = Figures(len(outcomes) / elapsed, p50, p99, cpu / len(outcomes), shares)
    return figures


def start_servers(db: str, api_url: str, workers: int, tmp: str) -> list[Server]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYBOT_LOG_LEVEL": "ERROR"}
    servers = []
    bare = [1] if workers == 1 else [1, workers]
    for count in bare:
        port = free_port()
        command = [sys.executable, "-m", "benchmarks.load", "--serve", "bare"]
        command += ["--port", str(port), "--api-url", api_url, "--workers", str(count)]
        process = subprocess.Popen(command, env=env, cwd=ROOT)
        servers.append(Server(f"bare {count}", port, process, count))
    port = free_port()
    process = subprocess.Popen(
        policybot_command(port, db, workers), env={**env, **policybot_env(api_url)}, cwd=tmp
    )
    servers.append(Server("policybot", port, process, workers))
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--briefs", type=int, default=10_000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--levels", default="1,20,50", help="concurrent clients")
    parser.add_argument("--requests", type=int, default=200, help="searches per level")
    parser.add_argument("--heavy", type=int, default=2, help="heavy commands per client")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes for policybot and the bare app"
    )
    parser.add_argument(
        "--only", choices=["search", "heavy"], help="measure only searches or heavy commands"
    )
    parser.add_argument("--serve", choices=["bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "bare":
        return serve_bare_bolt(args.port, args.api_url, args.workers)

    from tests.fakeslack import FakeSlack

    levels = [int(n) for n in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'load.sqlite3'}"
        build_corpus(db, args.briefs)
        searches = search_mix(db)
        with FakeSlack() as fake:
            servers = start_servers(db, fake.url, args.workers, tmp)
            by_name = {s.name: s for s in servers}
            try:
                for server in servers:
                    wait_healthy(server.port, server.process)
                load = os.getloadavg()[0]
                print(
                    f"\n{args.briefs:,} briefs, {db.split(':')[0]}; full reply latency; "
                    f"policybot on {args.workers} worker process(es); this machine has "
                    f"{os.cpu_count()} cores; load average before: {load:.2f}"
                )
                print("searches, e.g.: " + " | ".join(searches[:9]))
                per = {n: max(1, args.requests // n) for n in levels}
                bare = {
                    s.workers: measure(s, "bare Bolt ack", searches, levels, per, fake)
                    for s in servers
                    if s.name.startswith("bare")
                }
                bot = by_name["policybot"]
                if args.only != "heavy":
                    ours = measure(bot, "policybot search", searches, levels, per, fake)
                if args.only != "search":
                    heavy = dict.fromkeys(levels, args.heavy)
                    measure(bot, "policybot heavy", HEAVY, levels, heavy, fake)
                report_polling(bare)
                if args.only != "heavy":
                    report_ratios(ours, bare, args.workers, levels)
            finally:
                stop_servers(servers)


def stop_servers(servers: list[Server]) -> None:
    """SIGTERM, then time to finish: one policybot process answers every command still
    queued before it exits (at 100,000 briefs that can be a minute of heavy commands); a
    pre-forked worker is killed 13 s after the signal."""
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            print(f"{server.name} still running 120 s after SIGTERM: killed", file=sys.stderr)
            server.process.kill()
            server.process.wait()


def report_polling(bare: dict[int, dict[int, Figures]]) -> None:
    threads = Settings.from_env({}, database_url="sqlite://").http_threads
    print(
        f"\nBolt's ack polling: a request thread looks for the ack every "
        f"{ACK_POLL_SECONDS * 1000:.0f} ms, so one process with {threads} request threads acks "
        f"at most {threads / ACK_POLL_SECONDS:.0f} req/s"
    )
    for processes, figures in bare.items():
        for clients, f in figures.items():
            ceiling = min(clients, threads * processes) / ACK_POLL_SECONDS
            print(
                f"  bare, {processes} proc, {clients:>3} clients: {f.throughput:6.0f} req/s = "
                f"{100 * f.throughput / ceiling:3.0f}% of its polling ceiling "
                f"({ceiling:.0f}); p50 {f.p50 * 1000:.0f} ms; cpu/req {f.cpu_ms * 1000:.2f} ms"
            )


def report_ratios(
    ours: dict[int, Figures], bare: dict[int, dict[int, Figures]], workers: int, levels: list[int]
) -> None:
    print(
        "\nsearch vs bare Bolt (goal: throughput >= 0.5x, p99 <= 2x; cpu/req is what the "
        "ack polling cannot hide)"
    )
    for n in levels:
        parts = []
        for processes in sorted(bare):
            floor = bare[processes][n]
            parts.append(
                f"vs bare on {processes} proc: throughput "
                f"{ours[n].throughput / floor.throughput:.2f}x, p99 {ours[n].p99 / floor.p99:.2f}x, "
                f"cpu/req {ours[n].cpu_ms / floor.cpu_ms:.1f}x"
            )
        print(f"  {n:>3} clients: " + ";  ".join(parts))


if __name__ == "__main__":
    main()
