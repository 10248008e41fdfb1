"""Start-up cost of the command line: `import policybot.bot.cli` and `policybot --help`, each
in fresh interpreters (the median of several), beside the baseline from the same run: an
interpreter that imports what the command line imported up front before it deferred each
sub-command's imports to the moment it runs (the console, the services, SQLAlchemy, alembic,
the command handlers, rich).

    python -m benchmarks.startup            # 7 runs of each
    python -m benchmarks.startup --runs 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

# What the command line (then bot/cli.py) imported at module level until its imports moved
# into the sub-commands.
EAGER = (
    "import click, rich.console, rich.progress, rich.table, sqlalchemy.orm; "
    "import policybot.bot.console, policybot.bot.logs, policybot.bot.services, "
    "policybot.bot.settings, policybot.data.briefs, policybot.data.db, "
    "policybot.data.ingest.files, policybot.data.ingest.parser, policybot.data.ingest.preview, "
    "policybot.data.ingest.writer, policybot.data.maintenance, policybot.data.models, "
    "policybot.handlers.context, policybot.handlers.intake"
)


def timed(command: list[str], runs: int) -> float:
    """Median wall time of `command` in seconds, each run a fresh process."""
    times = []
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home}  # no .env or database of the user's in the way
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, check=True, env=env, cwd=home, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    bare = timed([python, "-c", "pass"], args.runs)
    eager = timed([python, "-c", EAGER], args.runs)
    cli = timed([python, "-c", "import policybot.bot.cli"], args.runs)
    helped = timed([python, "-m", "policybot.bot", "--help"], args.runs)
    print(f"median of {args.runs} fresh interpreters each (an empty one: {bare * 1000:.0f} ms)")
    print(f"  import policybot.bot.cli          {cli * 1000:6.0f} ms")
    print(f"  policybot --help                  {helped * 1000:6.0f} ms")
    print(f"  baseline: the old up-front imports {eager * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
