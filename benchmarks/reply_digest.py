"""Every reply of a few hundred varied searches, as a user sees it (the console's text and
Slack's Block Kit), written one JSON line per command: run it before and after a change to
how searches read the store and compare the two files (`--compare`).

The corpus is the demo tracker plus the composed trackers in benchmarks/relevance/trackers;
the commands are the judged questions, single words of the corpus, words with filters
(bodies, years, kinds, exclusions), pages past the first, "who issued ..." and filters that
empty the answer (their hints read the store too); some run in a workspace with notes.

    python -m benchmarks.reply_digest --out before.jsonl
    python -m benchmarks.reply_digest --out after.jsonl --compare before.jsonl
    python -m benchmarks.reply_digest --postgres postgresql+psycopg://postgres@127.0.0.1:5432/x
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from policybot.bot.blocks import render_blocks
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text

HERE = Path(__file__).parent / "relevance"
DEMO = Path(__file__).parents[1] / "data" / "corpus"
NOW = datetime(2025, 2, 15, 9, tzinfo=UTC)
NOTED_TEAM = "TNOTES"


def commands(words: list[str], bodies: list[str], seed: int = 7) -> list[str]:
    """The judged questions, then words alone and with filters, pages and empty answers."""
    questions = tomllib.loads((HERE / "questions.toml").read_text())["query"]
    judged = tomllib.loads((HERE / "judgements.toml").read_text())["query"]
    texts = [q["text"] for q in (*questions, *judged)]
    pick = random.Random(seed)
    for word in pick.sample(words, min(80, len(words))):
        texts.append(word)
        texts.append(f"{word} page:2")
    for _ in range(60):
        word, other, body = pick.choice(words), pick.choice(words), pick.choice(bodies)
        texts += [
            f"{word} body:{body}",
            f"{word} {other}",
            f"{word} -{other}",
            f"{word} since:2024-11-01",
            f"latest {word}",
        ]
    texts += ["latest", "latest 3", "latest 12 page:2", "latest page:3", "latest 40 page:9"]
    texts += [f"who issued {w}" for w in words[:15]]
    texts += [f"body:{b} since:2031" for b in bodies[:10]]  # empty: "without the dates" hint
    texts += [f"{w} kind:news" for w in words[:15]]
    return list(dict.fromkeys(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="JSON lines file to write")
    parser.add_argument("--compare", help="an earlier --out file: report every difference")
    parser.add_argument("--postgres", help="a PostgreSQL database URL (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'digest.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        sessions = session_factory(engine)
        for path in (*sorted(DEMO.glob("*.txt")), *sorted((HERE / "trackers").glob("*.txt"))):
            with sessions() as session, session.begin():
                ingest_bytes(session, path.read_bytes(), path.name, NOW)
        runner = CommandRunner(sessions)
        for note in ("b2 storage capacity to watch", "b5 expect a final version", "b9 battery"):
            runner.run(f"note {note}", Context(now=NOW, team_id=NOTED_TEAM, user_id="U1"))
        words = [w for w in _words(runner) if w.isalpha()]
        bodies = ["MIIT", "NDRC", "SAMR", "CAC", "MOF", "State Council", "NEA", "MEE"]
        lines = []
        for text in commands(words, bodies):
            for team in ("T1", NOTED_TEAM):
                reply = runner.run(text, Context(now=NOW, team_id=team, user_id="U1"))
                lines.append(
                    json.dumps(
                        {
                            "team": team,
                            "command": text,
                            "text": render_text(reply),
                            "blocks": render_blocks(reply, text),
                        },
                        sort_keys=True,
                        default=str,
                    )
                )
        engine.dispose()
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} replies written to {args.out}")
    if args.compare:
        before = Path(args.compare).read_text().splitlines()
        differ = [i for i, (a, b) in enumerate(zip(before, lines, strict=False)) if a != b]
        if len(before) != len(lines) or differ:
            for i in differ[:10]:
                print("differs:", json.loads(lines[i])["command"])
            raise SystemExit(f"{len(differ)} of {len(lines)} replies differ")
        print(f"all {len(lines)} replies byte-identical to {args.compare}")


def _words(runner: CommandRunner) -> list[str]:
    """Title words of the stored briefs, most frequent first (common and rare words both)."""
    from collections import Counter

    from sqlalchemy import select

    from policybot.data.models import Brief

    with runner.sessions() as session:
        titles = session.scalars(select(Brief.title)).all()
    counts = Counter(w.lower().strip(",.()") for t in titles for w in t.split() if len(w) > 3)
    return [w for w, _n in counts.most_common(120)]


if __name__ == "__main__":
    main()
