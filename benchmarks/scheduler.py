"""Scheduler figures: digest ticks for 1k and 10k subscriptions over 100k briefs, reminder
planning for 1, 100 and 10,000 rules over the goals of those briefs, and the time to fan out
1,000 digests to the fake Slack with 50 ms latency.

    python -m benchmarks.scheduler [--briefs 100000] [--subscriptions 1000,10000]
                                   [--new 20] [--digests 1000] [--latency 0.05]
                                   [--postgres URL] [--sqlite PATH]

Figures are CPU time, this process's and (PostgreSQL) the server process's serving the
connection, since the machine is shared; each is printed beside its floor from the same run:
the time to write the rows it planned with one INSERT ... SELECT.

Goals: a tick < 1 s at 10k subscriptions, its cost growing with the work that is due and not
with the history (the briefs already stored); 1,000 digests fanned out in < 15 s.

What is measured, on the same database, first with 1,000 stored briefs and then with
`--briefs` (the history), so the two can be compared side by side:

- idle tick: every subscription is due tomorrow; a tick finds nothing to do;
- due ticks: `--new` briefs arrived an hour ago and 10% (then 100%) of the subscriptions are
  due now. The planning (`plan_digests`, scheduler/kinds/digest.py: one search per due subscription over the
  briefs ingested since its last horizon) is timed on its own, warm (its query filters kept
  from the previous plan) and as the first plan of a new process (run as a child: nothing
  compiled or cached yet), then a whole tick with a poster that only counts (a tick claims
  at most `ledger.claim_due`'s limit of rows);
- fan-out: `--digests` subscriptions, each in its own channel, each due with one new
  matching brief, posted through the real SlackPoster and WebClient to the fake Slack
  (tests/fakeslack.py) answering after `--latency` seconds. Ticks run back to back until
  nothing is left; the figure says how many ticks that took. Channel pacing is on (one post
  per channel per second): every channel gets one message, so it never waits.

- reminders (`--rules`): every goal's deadline is spread to one day in the next ten years
  (the generated corpus says "By 2031": all on 31 December), then for each rule count
  (one rule a channel, default leads, 09:00 UTC, a fifth in Asia/Shanghai, queries drawn as
  the subscriptions' are, last checked by yesterday's 09:01 tick): `plan_reminders` a
  minute after that tick (nothing newly due; goal < 50 ms) and at 09:00 UTC (a day's
  alerts for the UTC channels, written as one ledger row per rule run: docs/ledger-unit.md;
  goal < 1 s; its floor is writing those rows), and the peak RSS of a child process running a
  whole tick at 09:00 with the most rules (goal < 150 MB) beside the same child that only
  connects. The baseline is the same figures over the small history.

Subscriptions are inserted as rows (what `/policy subscribe` stores), with queries drawn from
the generated corpus's vocabulary: mostly one word, some two words, some with `body:`,
`kind:` or an excluded word. Each measurement is the median of a few runs; the database is
reset between runs (ledger rows deleted, schedules moved back).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from benchmarks.corpus import BODIES, generate_issue, query_words
from policybot.data.backends import backend_for
from policybot.data.db import SessionFactory, make_engine, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.leads import DEFAULT_LEADS
from policybot.data.models import Brief, Delivery, Goal, ReminderRule, ScheduleKind, Subscription
from policybot.data.novelty import Novelty
from policybot.data.query.language import parse_query
from policybot.data.search.engines import engine_for
from policybot.scheduler.kinds.alerts_facts import search_revision
from policybot.scheduler.kinds.alerts_planner import plan_reminders
from policybot.scheduler.kinds.digest import plan_digests
from policybot.scheduler.matching import forget_kept_filters
from policybot.scheduler.messages import Outgoing
from policybot.scheduler.ticker import Ticker

DUE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # the subscriptions' 09:00 UTC slot
OLD = DUE - timedelta(days=60)  # when the history was ingested
NEW = DUE - timedelta(hours=1)  # when the new briefs arrived
LAST = DUE - timedelta(days=1)  # the previous digest
RUNS = 3


class CountingPoster:
    """Accepts every post at once; counts them."""

    def __init__(self) -> None:
        self.posts = 0
        self._lock = threading.Lock()

    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        with self._lock:
            self.posts += 1
            return f"ts.{self.posts}"

    def find_posted(
        self, team_id: str, channel_id: str, since: datetime, delivery_ids: set[int]
    ) -> set[int]:
        return set()  # nothing is ever posted, so nothing needs recovering


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def process_cpu(pid: int) -> float:
    """CPU seconds a process on this machine has used (utime + stime)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuClock:
    """CPU seconds spent by this process and by the database server process serving one
    connection (PostgreSQL on this machine; SQLite runs in this process): the figures are
    CPU, not wall-clock, because the machine is shared."""

    def __init__(self, connection: Connection | Session) -> None:
        self.server_pid: int | None = None
        bind = connection.get_bind() if isinstance(connection, Session) else connection
        if bind.dialect.name == "postgresql":
            self.server_pid = int(connection.scalar(text("SELECT pg_backend_pid()")) or 0)

    def __call__(self) -> float:
        server = process_cpu(self.server_pid) if self.server_pid else 0.0
        return time.process_time() + server


def brief_count(factory: SessionFactory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Brief)) or 0


def fill(factory: SessionFactory, target: int, at: datetime, seed_base: int = 0) -> None:
    """Ingest generated issues (ingested `at`) until the store holds `target` briefs."""
    per_file = 2000
    have = brief_count(factory)
    start = have
    while have < target:
        count = min(per_file, target - have)
        raw = generate_issue(count, seed=seed_base + start).encode()
        with factory() as session, session.begin():
            ingest_bytes(session, raw, f"bench-{seed_base + start}.txt", at)
        start += count
        have = brief_count(factory)
        print(f"  (ingesting the history: {have:,} briefs)", end="\r", flush=True)
    print(" " * 60, end="\r")


def replace_news(factory: SessionFactory, count: int, seed: int) -> None:
    """The briefs that arrived an hour ago: `count` of them, added after the history (as new
    briefs are); those of an earlier run are removed."""
    with factory() as session, session.begin():
        earlier = list(session.scalars(select(Brief.id).where(Brief.ingested_at == NEW)))
        engine_for(session).remove(session, earlier)
        session.execute(delete(Brief).where(Brief.id.in_(earlier)))
        # New by what they are (data/novelty.py), whatever the generated issue's date says:
        # archive briefs never reach a digest, and a digest tick would plan nothing.
        raw = generate_issue(count, seed=seed).encode()
        ingest_bytes(session, raw, f"new-{seed}.txt", NEW, Novelty.NEW)


def subscription_queries(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = query_words()
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.6:
            text_ = rng.choice(words)
        elif roll < 0.8:
            text_ = f"{rng.choice(words)} {rng.choice(words)}"
        elif roll < 0.9:
            text_ = f"{rng.choice(words)} body:{rng.choice(BODIES)}"
        elif roll < 0.95:
            text_ = f"{rng.choice(words)} kind:policy"
        else:
            text_ = f"{rng.choice(words)} -{rng.choice(words)}"
        out.append(parse_query(text_).describe())
    return out


def add_subscriptions(
    factory: SessionFactory,
    count: int,
    *,
    first: int,
    channels: int,
    queries: list[str] | None = None,
    since: datetime = LAST,
    due: datetime = DUE + timedelta(days=1),
) -> None:
    """Insert `count` daily 09:00 UTC subscriptions (numbered from `first`) over `channels`,
    last planned at `since` and next due at `due`."""
    queries = queries or subscription_queries(count, seed=first)
    rows = [
        {
            "team_id": "T1",
            "channel_id": f"C{(first + i) % channels:05d}",
            "created_by": "U1",
            "query_text": queries[i],
            "schedule": ScheduleKind.DAILY,
            "weekday": None,
            "at_minute": 9 * 60,
            "timezone": "UTC",
            "created_at": min(since, OLD - timedelta(days=1)),
            "checked_until": since,
            "next_due_at": due,
        }
        for i in range(count)
    ]
    with factory() as session, session.begin():
        session.execute(insert(Subscription), rows)


def reset(factory: SessionFactory, due_fraction: float) -> int:
    """No ledger rows; the first `due_fraction` of the subscriptions due at DUE, the rest
    tomorrow. Returns how many are due."""
    with factory() as session, session.begin():
        session.execute(delete(Delivery))
        ids = list(session.scalars(select(Subscription.id).order_by(Subscription.id)))
        due = ids[: int(round(len(ids) * due_fraction))]
        session.execute(
            update(Subscription).values(
                next_due_at=DUE + timedelta(days=1), checked_until=LAST, paused_reason=None
            )
        )
        if due:
            session.execute(
                update(Subscription).where(Subscription.id <= due[-1]).values(next_due_at=DUE)
            )
    return len(due)


def analyze(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()


def median_of(run: Callable[[], float], runs: int = RUNS) -> float:
    return statistics.median(run() for _ in range(runs))


def tick_figures(
    engine: Engine, factory: SessionFactory, subscriptions: int, label: str, plan_only: bool
) -> None:
    ticker = Ticker(factory, CountingPoster(), worker_id="bench")

    def idle() -> float:
        reset(factory, 0.0)
        started = time.perf_counter()
        report = ticker.tick(DUE)
        elapsed = time.perf_counter() - started
        assert report.planned == 0 and report.claimed == 0, report
        return elapsed

    print(f"  {label}, {subscriptions:,} subscriptions")
    print(f"    idle tick (nothing due, wall clock)      {ms(median_of(idle))}")
    for fraction in (0.1, 1.0):
        due_figures(engine, factory, ticker, subscriptions, fraction, plan_only)


def due_figures(
    engine: Engine,
    factory: SessionFactory,
    ticker: Ticker,
    subscriptions: int,
    fraction: float,
    plan_only: bool,
) -> None:
    planned: list[int] = []
    claimed: list[int] = []

    def plan() -> float:
        assert reset(factory, fraction)
        with factory() as session:
            with session.begin():
                # The server process is the one serving this transaction's connection.
                clock = CpuClock(session)
                started = clock()
                planned.append(plan_digests(session, DUE))
            return clock() - started  # the commit included

    def tick() -> float:
        reset(factory, fraction)
        started = time.perf_counter()
        report = ticker.tick(DUE)
        elapsed = time.perf_counter() - started
        claimed.append(report.claimed)
        return elapsed

    def fresh_process() -> float:
        """The first plan of a new scheduler process: nothing compiled, kept or cached (its
        query filters, SQLAlchemy's statements, the analysers' tables), as after a deploy."""
        assert reset(factory, fraction)
        child = subprocess.run(
            [sys.executable, "-c", f"import benchmarks.scheduler as b; b.plan_child({url!r})"],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, rows = child.stdout.split()[-2:]
        planned.append(int(rows))
        return float(seconds)

    url = engine.url.render_as_string(hide_password=False)
    due = int(round(subscriptions * fraction))
    forget_kept_filters()  # the first tick of a fresh scheduler compiles every query
    forgotten = plan()
    cold = median_of(fresh_process)
    planning = median_of(plan)
    floor = ledger_write_floor(engine)
    whole = "" if plan_only else f"; whole tick {ms(median_of(tick))} (claimed {claimed[-1]:,})"
    goal = " (goal < 1 s)" if due >= 10_000 else ""
    print(
        f"    {due:>6,} due: plan_digests {ms(planning)}{goal}, first tick of a fresh process "
        f"{ms(cold).strip()} (kept filters forgotten in this one: {ms(forgotten).strip()}); "
        f"floor {ms(floor).strip()} (writing its {planned[-1]:,} ledger rows with one "
        f"INSERT ... SELECT){whole}"
    )


def plan_child(url: str) -> None:
    """Plan the due digests once in this (new) process; print CPU seconds and rows."""
    engine = make_engine(url)
    factory = session_factory(engine)
    with factory() as session:
        with session.begin():
            clock = CpuClock(session)
            started = clock()
            planned = plan_digests(session, DUE)
        elapsed = clock() - started  # the commit included
    engine.dispose()
    print(elapsed, planned)


# -- reminders ---------------------------------------------------------------------------
SPREAD_FROM = date(2026, 12, 1)  # deadlines are spread, one a day at random, from here on
SPREAD_DAYS = 3650
RULES_CHECKED = DUE - timedelta(days=1) + timedelta(minutes=1)  # yesterday's 09:01 tick


def spread_deadlines(factory: SessionFactory) -> int:
    """Give every goal a day-precision deadline in the next ten years (the generated corpus
    says "By 2031", which puts every deadline on 31 December: a day's alerts would be a
    year's). Returns the number of goals."""
    with factory() as session, session.begin():
        ids = list(session.scalars(select(Goal.id).order_by(Goal.id)))
        spread = session.scalar(
            select(func.count()).select_from(Goal).where(Goal.precision == "day")
        )
        if spread != len(ids):
            rows = [
                {"gid": gid, "due": SPREAD_FROM + timedelta(days=(gid * 7919) % SPREAD_DAYS)}
                for gid in ids
            ]
            goals = Goal.__table__
            assert isinstance(goals, Table)  # a mapped class's table, for update()
            statement = (
                update(goals)
                .where(goals.c.id == bindparam("gid"))
                .values(due_on=bindparam("due"), precision="day", window_start=None)
            )
            for start in range(0, len(rows), 10_000):
                session.execute(statement, rows[start : start + 10_000])
    return len(ids)


def add_rules(factory: SessionFactory, count: int) -> None:
    """`count` reminder rules, one per channel, with default leads at 09:00 (mostly UTC, a
    fifth in Shanghai), queries drawn as the subscriptions' are; last checked yesterday."""
    queries = subscription_queries(count, seed=424_242)
    with factory() as session, session.begin():
        session.execute(delete(Delivery))
        session.execute(delete(ReminderRule))
        revision = search_revision(session)
        rows = [
            {
                "team_id": "T1",
                "channel_id": f"R{n:05d}",
                "created_by": "U1",
                "query_text": queries[n],
                "leads": list(DEFAULT_LEADS),
                "at_minute": 9 * 60,
                "timezone": "Asia/Shanghai" if n % 5 == 4 else "UTC",
                "created_at": OLD,
                "checked_until": RULES_CHECKED,
                "checked_revision": revision,
            }
            for n in range(count)
        ]
        session.execute(insert(ReminderRule), rows)


def reset_rules(factory: SessionFactory) -> None:
    with factory() as session, session.begin():
        session.execute(delete(Delivery))
        session.execute(
            update(ReminderRule).values(
                checked_until=RULES_CHECKED, checked_revision=search_revision(session)
            )
        )


def timed_plan(factory: SessionFactory, now: datetime) -> tuple[float, int]:
    with factory() as session:
        with session.begin():
            clock = CpuClock(session)  # the server process serving this transaction
            started = clock()
            planned = plan_reminders(session, now)
        return clock() - started, planned


def reminder_figures(engine: Engine, factory: SessionFactory, url: str, counts: list[int]) -> None:
    goals = spread_deadlines(factory)
    print(f"  reminders over {goals:,} goals (deadlines one a day over ten years)")
    for count in counts:
        add_rules(factory, count)
        analyze(engine)
        idle_runs: list[float] = []
        for _ in range(5):  # a minute after yesterday's tick: nothing newly due
            elapsed, planned = timed_plan(factory, RULES_CHECKED + timedelta(minutes=1))
            assert planned == 0
            idle_runs.append(elapsed)
        day_runs: list[tuple[float, int]] = []
        for _ in range(RUNS):  # 09:00 UTC: a day's alerts for the UTC channels
            reset_rules(factory)
            # Each run deletes ~400,000 ledger rows: vacuum them away, as autovacuum would
            # between mornings, or PostgreSQL's later runs pay for the earlier ones' bloat.
            backend_for(engine).maintain(engine, ["deliveries", "reminder_rules"])
            day_runs.append(timed_plan(factory, DUE))
        day, alerts = sorted(day_runs)[len(day_runs) // 2]
        per_alert = f", {day / alerts * 1e6:,.1f} µs per alert" if alerts else ""
        rows = ledger_rows(factory)
        # The ledger holds a row per rule run (and per folded lead, after downtime), no longer
        # one per alert: rewriting the rows planning wrote is the floor.
        floor = ledger_write_floor(engine) if alerts else 0.0
        print(
            f"    {count:>6,} rules: tick with nothing newly due {ms(statistics.median(idle_runs))} "
            f"(goal < 50 ms); a day's alerts {ms(day)} ({alerts:,} alerts in {rows:,} ledger "
            f"rows: rule runs{per_alert}; goal < 1 s); floor {ms(floor).strip()} (those "
            f"{rows:,} rows written with one INSERT ... SELECT; a row per alert would be "
            f"{alerts:,})"
        )
    if counts:
        reset_rules(factory)
        bare = child_rss(url, DUE, tick=False)
        ticked = child_rss(url, DUE, tick=True)
        print(
            f"    peak RSS of a tick process with {counts[-1]:,} rules, a day's alerts planned "
            f"and posted: {ticked:,.0f} MB (goal < 150 MB); the same process without the "
            f"tick: {bare:,.0f} MB"
        )


def ledger_rows(factory: SessionFactory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


def ledger_write_floor(engine: Engine) -> float:
    """Seconds to insert the ledger rows planning just wrote into the same table (its
    indexes, unique key and foreign keys), copied from a temporary table: what any planner
    pays to write them, however it computes them. One connection: temporary tables are
    per connection."""
    columns = ", ".join(c.name for c in Delivery.__table__.columns if c.name != "id")
    with engine.connect() as connection:
        connection.execute(
            text(f"CREATE TEMPORARY TABLE saved_ledger AS SELECT {columns} FROM deliveries")
        )
        connection.execute(delete(Delivery))
        connection.commit()
        clock = CpuClock(connection)
        started = clock()
        connection.execute(
            text(f"INSERT INTO deliveries ({columns}) SELECT {columns} FROM saved_ledger")
        )
        connection.commit()
        elapsed = clock() - started
        connection.execute(text("DROP TABLE saved_ledger"))
        connection.commit()
    return elapsed


def child_rss(url: str, now: datetime, *, tick: bool) -> float:
    """Peak RSS (MB) of a child process that ticks once (or only connects), as `serve`'s
    scheduler would."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.scheduler",
            "--rss-child",
            url,
            now.isoformat(),
            str(int(tick)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def rss_child(url: str, now_text: str, tick: str) -> None:
    engine = make_engine(url)
    factory = session_factory(engine)
    with factory() as session:
        session.execute(select(func.count()).select_from(ReminderRule)).scalar()
    if tick == "1":
        Ticker(factory, CountingPoster(), worker_id="bench-rss").tick(
            datetime.fromisoformat(now_text)
        )
    engine.dispose()
    print(peak_rss_mb())


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ru_maxrss: Linux carries it across exec, so a child
    started by a large parent (this benchmark, holding the corpus) would report the
    parent's peak. VmHWM belongs to this process's own memory map."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: kB on Linux


def fanout_figures(factory: SessionFactory, digests: int, latency: float) -> None:
    from policybot.bot.posters import SlackPoster
    from policybot.bot.settings import Settings
    from policybot.bot.slack_client import make_web_client
    from tests.fakeslack import FakeSlack

    with factory() as session, session.begin():
        session.execute(delete(Delivery))
        session.execute(delete(Subscription))
    # One brief arrives a minute before 09:00; every subscription ("every new brief": an
    # empty query), each in its own channel, last planned two minutes before, gets it.
    add_subscriptions(
        factory,
        digests,
        first=0,
        channels=digests,
        queries=[""] * digests,
        since=DUE - timedelta(minutes=2),
        due=DUE,
    )
    with factory() as session, session.begin():
        ingest_bytes(
            session,
            generate_issue(1, seed=999_999_999).encode(),
            "fanout.txt",
            DUE - timedelta(minutes=1),
        )
    with FakeSlack(latency=latency) as fake:
        settings = Settings.from_env(
            {}, database_url="sqlite://", bot_token="xoxb-bench", api_url=fake.url, load_demo=False
        )
        client = make_web_client(settings, settings.bot_token)
        ticker = Ticker(factory, SlackPoster(lambda _team: client), worker_id="bench")
        ticks = sent = 0
        started = time.perf_counter()
        while True:
            report = ticker.tick(DUE)
            ticks += 1
            sent += report.messages
            if not report.claimed:
                break
        elapsed = time.perf_counter() - started
        posted = len(fake.posted_messages())
    print(
        f"  fan-out: {sent:,} digests ({posted:,} reached the fake Slack, {latency * 1000:.0f} ms "
        f"latency) in {elapsed:.2f} s over {ticks} back-to-back ticks "
        f"-> {sent / elapsed:,.0f} posts/s (goal: 1,000 in < 15 s)"
    )


def run(url: str, name: str, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    print(f"{name}:")
    with factory() as session, session.begin():
        session.execute(delete(Delivery))
        session.execute(delete(Subscription))
        session.execute(delete(ReminderRule))
    small = min(1000, args.briefs)
    if brief_count(factory) > small:
        print(f"  (the database already holds {brief_count(factory):,} briefs; history is that)")
    histories = [small, args.briefs] if brief_count(factory) <= small else [brief_count(factory)]
    for history in histories:
        fill(factory, history, OLD)
        replace_news(factory, args.new, seed=888_888_888 + history)
        with factory() as session, session.begin():
            session.execute(delete(Subscription))
            session.execute(delete(ReminderRule))  # the digest figures tick without rules
        have = 0
        for target in args.subscriptions:
            add_subscriptions(factory, target - have, first=have, channels=max(1, target // 5))
            have = target
            analyze(engine)
            if "digests" in args.sections:
                tick_figures(
                    engine, factory, target, f"{brief_count(factory):,} briefs", args.plan_only
                )
        if "reminders" in args.sections:
            reminder_figures(engine, factory, url, args.rules)
    if "fanout" in args.sections:
        fanout_figures(factory, args.digests, args.latency)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--briefs", type=int, default=100_000)
    parser.add_argument(
        "--subscriptions",
        type=lambda s: sorted(int(x) for x in s.split(",")),
        default=[1000, 10_000],
    )
    parser.add_argument(
        "--new", type=int, default=20, help="briefs that arrived since the last digest"
    )
    parser.add_argument("--digests", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--postgres", help="PostgreSQL URL to benchmark too (a scratch database)")
    parser.add_argument("--sqlite", help="SQLite file to use (kept; default: a temporary file)")
    parser.add_argument("--skip-sqlite", action="store_true", help="only the --postgres database")
    parser.add_argument(
        "--rules",
        type=lambda s: sorted(int(x) for x in s.split(",")),
        default=[1, 100, 10_000],
        help="reminder rule counts to measure",
    )
    parser.add_argument(
        "--sections",
        default="digests,reminders,fanout",
        help="which figures: digests, reminders, fanout (comma-separated)",
    )
    parser.add_argument(
        "--plan-only",
        action="store_true",
        help="time digest planning but not whole ticks (claiming and posting)",
    )
    parser.add_argument(
        "--rss-child", nargs=3, metavar=("URL", "NOW", "TICK"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{args.sqlite or Path(tmp) / 'scheduler.sqlite3'}"
        if not args.skip_sqlite:
            run(sqlite_url, "SQLite", args)
        if args.postgres:
            run(args.postgres, "PostgreSQL", args)


if __name__ == "__main__":
    main()
