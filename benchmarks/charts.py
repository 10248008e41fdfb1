"""What a chart costs: `deadlines chart` and `scorecard chart` beside the text commands they
draw (`deadlines`, `scorecard`) in the same run, on the demo corpus in a temporary SQLite
database, through the command runner (as the console and Slack run them). The first chart of
a process also pays for importing matplotlib (and, on a new machine, its font cache): shown
apart. A calendar feed's fetch (the ICS made afresh) is timed beside `deadlines ics`.

    python -m benchmarks.charts              # 20 runs of each
    python -m benchmarks.charts --runs 50
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 11, 29, 9, tzinfo=UTC)


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from policybot.data.calendar_feeds import create_feed
    from policybot.data.db import make_engine, reading, session_factory, upgrade
    from policybot.data.ingest.writer import ingest_bytes
    from policybot.data.novelty import Novelty
    from policybot.handlers.calendar import feed_document
    from policybot.handlers.commands import CommandRunner
    from policybot.handlers.context import Context
    from tests.conftest import DEMO_CORPUS

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'charts.sqlite3'}")
        upgrade(engine)
        sessions = session_factory(engine)
        with sessions() as session, session.begin():
            ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, NOW, Novelty.NEW)
            _, token = create_feed(session, "T1", "C1", "U1", "", NOW)
        runner = CommandRunner(sessions)
        ctx = Context(now=NOW, team_id="T1")
        runner.run("status g1 met confirm", ctx)  # something for the scorecard to count

        def run(text: str) -> Callable[[], object]:
            return lambda: runner.run(text, ctx)

        def fetch() -> object:
            with reading(sessions) as session, session.begin():
                return feed_document(session, token, NOW)

        started = time.perf_counter()
        first = runner.run("deadlines chart", ctx)
        first_ms = (time.perf_counter() - started) * 1000
        assert first.attachment is not None
        rows = [
            ("deadlines (text)", median_ms(run("deadlines"), args.runs)),
            ("deadlines chart", median_ms(run("deadlines chart"), args.runs)),
            ("scorecard (text)", median_ms(run("scorecard"), args.runs)),
            ("scorecard chart", median_ms(run("scorecard chart"), args.runs)),
            ("deadlines ics (file)", median_ms(run("deadlines ics"), args.runs)),
            ("calendar feed fetch", median_ms(fetch, args.runs)),
        ]
        engine.dispose()
    print(f"median of {args.runs} runs each, demo corpus, SQLite")
    print(f"  first chart of a process (imports matplotlib)  {first_ms:7.0f} ms")
    for name, ms in rows:
        print(f"  {name:<46} {ms:7.1f} ms")
    print(f"  PNG size of the timeline: {len(first.attachment.content) / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
