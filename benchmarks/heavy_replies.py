"""The heavy commands' replies, written down so that two versions of the code can be
compared byte for byte (`deadlines` and `scorecard`, with and without words, windows and
pages), and their CPU per command in process (client, plus the PostgreSQL backends' own
CPU, read from /proc; parallel plans off, so that no CPU is spent in workers uncounted),
beside a bare `help` reply from the same run. A PostgreSQL corpus is VACUUM ANALYZEd first (autovacuum's work
in production; a server running without it plans from no statistics).

    python -m benchmarks.heavy_replies --db sqlite:////tmp/big.db --briefs 100000 --dump after.json
    python -m benchmarks.heavy_replies --demo --dump demo.json   # the demo corpus
    python -m benchmarks.heavy_replies ... --compare before.json  # exit 1 on any difference

The answers a team gave are part of the corpus: `--answers N` has team TA answer every
N-th goal (past and not yet due), the same ones on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # as benchmarks.load counts from
DEADLINES = [
    "deadlines",
    "deadlines page:2",
    "deadlines page:37",
    "deadlines within 5y",
    "deadlines within 5y page:3",
    "deadlines within 6m",
    "deadlines storage",
    "deadlines energy page:2",
    "deadlines within 5y storage",
    "deadlines body:MIIT",
    "deadlines -storage",
    "deadlines due:2030",
    "deadlines due:2030 page:9",
    "deadlines kind:company",
    "deadlines zzqx",
]
SCORECARDS = [
    "scorecard",
    "scorecard storage",
    "scorecard energy",
    "scorecard body:MIIT",
    "scorecard -storage",
    "scorecard due:2025",
    "scorecard kind:company",
]
# `latest` with words walks the briefs newest first, as a deadlines page does.
LATEST = ["latest storage", "latest storage page:3", "latest 30 energy page:2", "latest zzqx"]
# (command, team): T1 answered nothing (the team benchmarks.load and command_cost ask as),
# TA's scorecard (every 97th goal answered) beside it.
TIMED = [
    ("deadlines", "T1"),
    ("deadlines within 5y", "T1"),
    ("deadlines storage", "T1"),
    ("deadlines within 5y storage", "T1"),
    ("scorecard", "T1"),
    ("scorecard storage", "T1"),
    ("scorecard", "TA"),
    ("scorecard storage", "TA"),
    ("latest storage page:3", "T1"),
]
FLOOR = ("help", "T1")
TEAMS = ("TA", "T1")  # TA answered some goals, T1 (the load benchmarks' team) none


def backend_pids(engine: Engine) -> list[int]:
    """PostgreSQL: the backends serving this database (their CPU is the command's too)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend'"
            )
        )
        return [int(pid) for (pid,) in rows]


def cpu_of(pid: int) -> float:
    """CPU seconds of a process (user + system), from /proc; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured_engine(db: str) -> Engine:
    """The engine the commands run on. PostgreSQL: without parallel workers, so that a
    plan's whole CPU is in the backends measured (a worker's ends with it, uncounted: a
    plan hashing every goal in two workers showed a third of its cost)."""
    from policybot.data.db import make_engine

    if db.startswith("postgresql"):
        options = "-c max_parallel_workers_per_gather=0"
        return make_engine(db, connect_args={"options": options})
    return make_engine(db)


def analyze(db: str) -> None:
    """PostgreSQL: VACUUM ANALYZE a corpus just built, as autovacuum would in production
    (without statistics the planner read a deadline's 18,000 goals to find 13)."""
    from policybot.data.db import make_engine

    engine = make_engine(db, isolation_level="AUTOCOMMIT")
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def build_demo(db: str) -> None:
    from policybot.data.db import make_engine, session_factory, upgrade
    from policybot.data.ingest.writer import ingest_bytes

    engine = make_engine(db)
    upgrade(engine)
    demo = Path(__file__).resolve().parents[1] / "data" / "corpus"
    with session_factory(engine)() as session, session.begin():
        for path in sorted(demo.glob("*.txt")):
            ingest_bytes(session, path.read_bytes(), path.name, datetime(2026, 11, 1, tzinfo=UTC))
    engine.dispose()


def answer_some(db: str, every: int) -> None:
    """Team TA answers every `every`-th goal with a deadline (the same goals each run)."""
    from sqlalchemy import select

    from policybot.data.assessments import record_answer
    from policybot.data.db import make_engine, session_factory
    from policybot.data.models import Goal, GoalAssessment, GoalStatus

    engine = make_engine(db)
    with session_factory(engine)() as session, session.begin():
        if session.scalar(select(GoalAssessment.id).limit(1)) is None:
            ids = session.scalars(
                select(Goal.id).where(Goal.due_on.is_not(None)).order_by(Goal.id)
            ).all()
            statuses = list(GoalStatus)[1:]
            for n, goal_id in enumerate(ids[::every]):
                when = datetime(2026, 11, 1, tzinfo=UTC)
                record_answer(session, "TA", goal_id, statuses[n % len(statuses)], "", "U1", when)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="database URL (default: a SQLite file under /tmp)")
    parser.add_argument("--briefs", type=int, default=0, help="generate this many briefs")
    parser.add_argument("--demo", action="store_true", help="the demo corpus only")
    parser.add_argument("--answers", type=int, default=97, help="team TA answers every N-th goal")
    parser.add_argument("--rounds", type=int, default=30, help="timed runs of each command")
    parser.add_argument("--dump", type=Path, help="write the replies here (JSON)")
    parser.add_argument("--compare", type=Path, help="replies written before: must be equal")
    args = parser.parse_args()

    from benchmarks.load import build_corpus
    from policybot.data.db import session_factory
    from policybot.handlers.commands import CommandRunner
    from policybot.handlers.context import Context
    from policybot.handlers.render_text import render_text

    name = "demo" if args.demo else f"{args.briefs or 'existing'}"
    db = args.db or f"sqlite:///{Path(tempfile.gettempdir()) / f'heavy-replies-{name}.db'}"
    if args.demo:
        build_demo(db)
    elif args.briefs:
        build_corpus(db, args.briefs)
    answer_some(db, args.answers)
    analyze(db)
    engine = measured_engine(db)
    runner = CommandRunner(session_factory(engine))

    def run(command: str, team: str) -> str:
        reply = runner.run(command, Context(now=NOW, team_id=team, user_id="U1"))
        return repr(reply) + "\n" + render_text(reply)

    replies = {
        f"{team} {command}": run(command, team)
        for team in TEAMS
        for command in DEADLINES + SCORECARDS + LATEST
    }
    if args.dump:
        args.dump.write_text(json.dumps(replies, indent=1, ensure_ascii=False))
    differ = 0
    if args.compare:
        before = json.loads(args.compare.read_text())
        for key, reply in replies.items():
            if before.get(key) != reply:
                differ += 1
                print(f"DIFFERENT: {key}\n--- before\n{before.get(key)}\n--- after\n{reply}\n")
        print(f"{len(replies) - differ} of {len(replies)} replies identical to {args.compare}")

    print(f"\n{name} briefs, {engine.dialect.name}: CPU ms per command (client + database)")
    for command, team in [FLOOR, *TIMED]:
        run(command, team)  # warm: caches, the search index's reader
        # /proc counts in clock ticks (10 ms): the rounds are timed together.
        pids = backend_pids(engine)
        client, server = time.process_time(), sum(cpu_of(p) for p in pids)
        for _ in range(args.rounds):
            run(command, team)
        client = time.process_time() - client
        server = sum(cpu_of(p) for p in set(pids) | set(backend_pids(engine))) - server
        label = f"{command} (floor)" if (command, team) == FLOOR else f"{command} [{team}]"
        each = (client + server) * 1000 / args.rounds
        print(
            f"  {label:<32} {each:7.1f} ms  (client {client * 1000 / args.rounds:6.1f}, "
            f"database {server * 1000 / args.rounds:6.1f})"
        )
    engine.dispose()
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
