"""Several people writing at once on the embedded SQLite store, with the scheduler ticking
in the same process: commands that fail ("Sorry" in Slack) and their latency, with today's
transactions beside the old deferred BEGIN, in the same run.

Each run copies one prepared database (migrated, the demo corpus), starts the scheduler on
it as `serve` does (APScheduler, every --tick seconds) and sends --commands write commands
(notes, subscriptions, reminder rules, a third each, each subscription and rule in a channel
of its own) through the command runner that Slack's listeners call, --writers at a time. A
failure is what the server answers "Sorry" to: an exception out of the runner (a friendly
refusal of bad input would count apart, and there are none). Latency is the runner's call,
queueing for the write lock included. Meanwhile --readers threads search, as colleagues
do: their latency shows whether reads wait for writers.

"deferred" is the engine as it was before: the same connection pragmas, and a plain BEGIN
for every transaction (a transaction that read and then wrote was refused at once when
another connection had committed in between). "immediate" is make_engine today.

    python -m benchmarks.writers                    # 4 and 8 writers, 48 commands
    python -m benchmarks.writers --writers 4,8,16,32
    python -m benchmarks.writers --only immediate --writers 32 --commands 192
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, func, select

from benchmarks.scheduler import CountingPoster
from policybot.data import db
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import ReminderRule, Subscription, TeamNote
from policybot.data.search.live import warm
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.scheduler.runner import start_background_ticker
from policybot.scheduler.ticker import Ticker
from tests.conftest import DEMO_CORPUS

MODES = ("deferred", "immediate")


def deferred_engine(url: str) -> Engine:
    """make_engine as it was: every transaction began with a plain (deferred) BEGIN."""

    def begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    engine = create_engine(url)
    event.listen(engine, "connect", db._sqlite_pragmas)
    event.listen(engine, "begin", begin)
    return engine


def commands(count: int) -> list[tuple[str, str, str]]:
    """(user, channel, text): notes on briefs, subscriptions (every other one instant, which
    the scheduler plans every tick) and reminder rules."""
    out = []
    for n in range(count):
        user = f"U{100 + n % 8}"
        if n % 3 == 0:
            out.append((user, "C100", f"note b{n % 20 + 1} Concurrent note {n}"))
        elif n % 3 == 1:
            schedule = "instant" if n % 2 else f"daily at {n % 24:02d}:00"
            out.append((user, f"CS{n}", f"subscribe storage {schedule}"))
        else:
            out.append((user, f"CR{n}", "remind storage leads 90,30,7"))
    return out


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds (0 when nothing was measured)."""
    if not seconds:
        return 0.0, 0.0
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered) * 1000, p99 * 1000


class TickTrouble(logging.Handler):
    """Counts ticks that failed (the runner's error) or were skipped because the one before
    was still running (APScheduler's warning), instead of printing them."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = self.skipped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "policybot.scheduler.runner" and record.levelno >= logging.ERROR:
            self.failed += 1
        elif "maximum number of running instances" in record.getMessage():
            self.skipped += 1

    def __enter__(self) -> TickTrouble:
        for name in ("policybot.scheduler.runner", "apscheduler.scheduler"):
            logger = logging.getLogger(name)
            logger.addHandler(self)
            logger.propagate = False
        return self

    def __exit__(self, *exc_info: object) -> None:
        for name in ("policybot.scheduler.runner", "apscheduler.scheduler"):
            logger = logging.getLogger(name)
            logger.removeHandler(self)
            logger.propagate = True


@dataclass
class Outcome:
    mode: str
    writers: int
    commands: int
    failures: int
    refused: int
    stored: int
    latencies: list[float]
    wall: float
    errors: list[str]
    ticks_failed: int
    ticks_skipped: int
    searches: list[float]

    def line(self) -> str:
        p50, p99 = percentiles(self.latencies)
        search50, search99 = percentiles(self.searches)
        return (
            f"{self.writers:>7}  {self.mode:<9}  {self.failures:>3}/{self.commands:<4}  "
            f"{self.refused:>7}  {self.stored:>3}/{self.commands:<4}  {p50:>7.1f}  {p99:>7.1f}  "
            f"{self.wall:>6.2f}  {self.ticks_failed:>5}/{self.ticks_skipped:<5}  "
            f"{len(self.searches):>5}  {search50:>7.1f}  {search99:>7.1f}"
        )


def prepare(directory: Path) -> Path:
    template = directory / "template.sqlite3"
    engine = db.make_engine(f"sqlite:///{template}")
    db.upgrade(engine)
    with db.session_factory(engine)() as session, session.begin():
        ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, datetime.now(UTC))
    engine.dispose()
    return template


def run(
    template: Path, directory: Path, mode: str, writers: int, count: int, tick: int, readers: int
) -> Outcome:
    path = directory / f"{mode}-{writers}.sqlite3"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    engine = deferred_engine(url) if mode == "deferred" else db.make_engine(url)
    warm(engine)  # as `serve` does before it takes requests
    sessions = db.session_factory(engine)
    runner = CommandRunner(sessions)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
    trouble = TickTrouble().__enter__()
    scheduler = start_background_ticker(
        Ticker(sessions, CountingPoster()), clock, interval_seconds=tick
    )
    latencies: list[float] = []
    errors: list[str] = []
    refused = 0
    lock = threading.Lock()

    def send(work: tuple[str, str, str]) -> None:
        nonlocal refused
        user, channel, text = work
        ctx = Context(now=clock(), team_id="T1", channel_id=channel, user_id=user)
        started = time.perf_counter()
        try:
            reply = runner.run(text, ctx)
        except Exception as error:  # what the Slack edge answers "Sorry" to
            failed = f"{type(error).__name__}: {str(error).splitlines()[0][:80]}"
        else:
            failed = ""
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            if failed:
                errors.append(failed)
            elif reply.is_error:
                refused += 1

    searches: list[float] = []
    writing = threading.Event()
    writing.set()

    def search(n: int) -> None:
        # Searches beside the writes, as other people read while some write.
        ctx = Context(now=clock(), team_id="T1", channel_id="C100", user_id=f"U{200 + n}")
        words = ("storage", "semiconductors", "battery", "hydrogen", "data centres")
        while writing.is_set():
            started = time.perf_counter()
            runner.run(words[len(searches) % len(words)], ctx)
            with lock:
                searches.append(time.perf_counter() - started)

    work = commands(count)
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(writers + readers) as pool:
            reading = [pool.submit(search, n) for n in range(readers)]
            list(pool.map(send, work))
            wall = time.perf_counter() - started
            writing.clear()
            for future in reading:
                future.result()
    finally:
        scheduler.shutdown()
        trouble.__exit__()
    with sessions() as session:
        stored = sum(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (TeamNote, Subscription, ReminderRule)
        )
    engine.dispose()
    return Outcome(
        mode,
        writers,
        count,
        len(errors),
        refused,
        stored,
        latencies,
        wall,
        errors,
        trouble.failed,
        trouble.skipped,
        searches,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="4,8", help="concurrent writers, comma-separated")
    parser.add_argument("--commands", type=int, default=48)
    parser.add_argument("--tick", type=int, default=1, help="scheduler interval (seconds)")
    parser.add_argument("--readers", type=int, default=2, help="threads searching meanwhile")
    parser.add_argument("--only", choices=MODES, help="one way of beginning transactions")
    args = parser.parse_args()
    counts = [int(n) for n in args.writers.split(",")]
    modes = [args.only] if args.only else list(MODES)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        template = prepare(directory)
        print(
            f"{args.commands} write commands, scheduler every {args.tick} s, SQLite (WAL, "
            f"busy timeout {db.BUSY_TIMEOUT_MS} ms)"
        )
        print(
            "writers  BEGIN      failures  refused  stored    p50 ms   p99 ms  wall s  "
            "ticks failed/skipped  searches  p50 ms  p99 ms"
        )
        for writers in counts:
            for mode in modes:
                outcome = run(
                    template, directory, mode, writers, args.commands, args.tick, args.readers
                )
                print(outcome.line(), flush=True)
                for error in sorted(set(outcome.errors))[:3]:
                    print(f"         {outcome.errors.count(error)} x {error}")


if __name__ == "__main__":
    main()
