"""Search latency at 100,000 generated briefs, per query class, beside a plain LIKE scan with
the same filters, on SQLite and PostgreSQL; the index's cold start and memory.

    python -m benchmarks.search [--briefs 100000] [--queries 200] [--scans 8]
                                [--postgres URL | --no-postgres] [--postgres-db NAME]
                                [--sqlite PATH] [--http]

Goals: p99 <= 20 ms for each class end to end through `briefs_data.search` (the count and the
first page of 5, ranked exactly over every match), >= 50x faster than the scan at p50; a
fresh process answers its first search within 2 s, peaking under 250 MB and staying under
200 MB (the index is on disk, memory-mapped and shared: data/search/shared.py).

Classes: a rare word (among the least frequent tenth of the vocabulary), a common word (the
20 most frequent: in 75-90% of the briefs), two common words, a common word with
`body:MIIT since:2024-06 due:2027`, a phrase of two words taken from a stored title, and a
Chinese two-character word. Each query is compiled as `/policy` compiles it (thesaurus,
derivations, query understanding) before the clock starts; what is timed is one page in an
open session, the way a command reads it: `briefs_data.search(session, where, 5, load=False)`
(the index refresh check, ranking) then `brief_views` (the five briefs as plain columns).
Beside it, in the same run, the ORM page: `briefs_data.search(session, where, 5)`, Brief objects
with their selectin relations, as the search path read them before.

The scan answers the same question the plain way: every word as `LIKE '%word%'` over the
English and Chinese titles, summary and comment (AND between words; a phrase as one
pattern), the same structured filters in SQL, a count and the newest 5. `LIKE`, not
`ILIKE`: on SQLite LIKE already ignores ASCII case, and ILIKE would slow PostgreSQL's scan.

PostgreSQL is measured twice: on the freshly filled database, then after VACUUM ANALYZE.
Its scratch database is created and dropped unless `--postgres-db` names one to keep.
Two fresh processes are measured: one builds the index from `search_documents` (none on
disk: its time, size on disk and peak RSS); one opens it and answers a first search (the
time from its spawn, imports included), then 150 more (its RSS after them and its peak).
The previous engine (numpy arrays rebuilt in every process) is gone: its figures are quoted
from the README beside these.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, and_, func, or_, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks.corpus import CJK_WORDS, generate_issue, query_words
from policybot.data import briefs as briefs_data
from policybot.data.briefs import BriefFilter, apply_filters
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief
from policybot.data.views import brief_views

FILTERS = "body:MIIT since:2024-06 due:2027"
TODAY = datetime.now(UTC).date()  # goal countdowns on the shown page


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


def fill(engine: Engine, briefs: int) -> float:
    """Ingest generated tracker issues until the store holds `briefs`; seconds taken."""
    factory = session_factory(engine)
    with factory() as session:
        have = session.scalar(select(func.count()).select_from(Brief)) or 0
    if have >= briefs:
        print(f"  (reusing the {have:,} briefs already there)")
        return 0.0
    started = time.perf_counter()
    per_file = 2000
    for start in range(have, briefs, per_file):
        raw = generate_issue(min(per_file, briefs - start), seed=start).encode()
        with factory() as session, session.begin():
            ingest_bytes(session, raw, f"bench-{start}.txt", datetime.now(UTC))
        print(f"  ingested {min(start + per_file, briefs):,}", end="\r", flush=True)
    print()
    return time.perf_counter() - started


def compiled(session: Session, query: str) -> BriefFilter:
    """The filter `/policy <query>` searches with (words, bodies, filters)."""
    from policybot.data.query.compiler import BodyNames, build_filter
    from policybot.data.query.language import parse_query
    from policybot.data.query.understanding import understand

    parsed = parse_query(query)
    names = BodyNames(session)
    understand(parsed, datetime.now(UTC).date(), names)
    return build_filter(session, parsed, names)[0]


@dataclass
class QueryClass:
    name: str
    queries: list[str]  # as typed
    patterns: list[list[str]]  # per query: the LIKE patterns of the scan (AND)


def query_classes(engine: Engine, count: int) -> list[QueryClass]:
    """Queries per class, from the stored briefs' own words (seeded, so runs compare)."""
    rng = random.Random(10)
    factory = session_factory(engine)
    with factory() as session:
        frequency = []
        for word in query_words():
            where = compiled(session, word)
            if where.has_text:
                frequency.append((briefs_data.search(session, where, 0).total, word))
        frequency.sort()
        matched = [w for n, w in frequency if n > 0]
        rare = matched[: max(10, len(matched) // 10)]
        common = [w for _, w in frequency[-20:]]
        titles = list(session.scalars(select(Brief.title).order_by(func.random()).limit(count * 2)))
    phrases = []
    for title in titles:
        words = [w for w in title.lower().split() if len(w) > 3]
        if len(words) >= 2:
            at = rng.randrange(len(words) - 1)
            phrases.append(f"{words[at]} {words[at + 1]}")
    pick = rng.choice
    two = [(pick(common), pick(common)) for _ in range(count)]
    with_filters = [pick(common) for _ in range(count)]
    cjk = [pick(CJK_WORDS) for _ in range(count)]
    rare_words = [pick(rare) for _ in range(count)]
    common_words = [pick(common) for _ in range(count)]
    phrases = phrases[:count]
    return [
        QueryClass("rare word", rare_words, [[w] for w in rare_words]),
        QueryClass("common word", common_words, [[w] for w in common_words]),
        QueryClass("two common words", [f"{a} {b}" for a, b in two], [[a, b] for a, b in two]),
        QueryClass(
            "word + filters", [f"{w} {FILTERS}" for w in with_filters], [[w] for w in with_filters]
        ),
        QueryClass("phrase", [f'"{p}"' for p in phrases], [[p] for p in phrases]),
        QueryClass("Chinese bigram", cjk, [[w] for w in cjk]),
    ]


def search_samples(engine: Engine, wheres: list[BriefFilter], *, as_shown: bool) -> list[float]:
    """`as_shown`: the page as a reply reads it (the ranked ids, then data/views.brief_views:
    plain columns); else `briefs_data.search`'s ORM briefs with their selectin relations."""
    factory = session_factory(engine)
    samples = []
    for where in wheres:
        with factory() as session:
            started = time.perf_counter()
            if as_shown:
                page = briefs_data.search(session, where, 5, load=False)
                brief_views(session, page.ids, TODAY)
            else:
                briefs_data.search(session, where, 5)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def scan_samples(engine: Engine, cases: list[tuple[list[str], BriefFilter]]) -> list[float]:
    """The same question, the plain way: LIKE over the texts and the filters in SQL."""
    factory = session_factory(engine)
    samples = []
    for patterns, where in cases:
        words = [
            or_(
                Brief.title.like(f"%{p}%"),
                Brief.title_original.like(f"%{p}%"),
                Brief.summary.like(f"%{p}%"),
                Brief.comment.like(f"%{p}%"),
            )
            for p in patterns
        ]
        structured = BriefFilter(
            body_ids=where.body_ids, since=where.since, until=where.until, due_year=where.due_year
        )
        statement = apply_filters(select(Brief).where(and_(*words)), structured)
        with factory() as session:
            started = time.perf_counter()
            session.scalar(select(func.count()).select_from(statement.subquery()))
            session.scalars(
                statement.order_by(Brief.published_on.desc(), Brief.id.desc()).limit(5)
            ).all()
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(engine: Engine, classes: list[QueryClass], scans: int, label: str) -> None:
    factory = session_factory(engine)
    with factory() as session:
        compiled_classes = [[compiled(session, q) for q in c.queries] for c in classes]
    # The index is built, caches are warm.
    search_samples(engine, compiled_classes[0][:20], as_shown=False)
    print(
        f"  {label}  (search: the page as a reply reads it; ORM: briefs_data.search's Brief objects)"
    )
    print(
        f"    {'class':<18} {'search p50':>10} {'p99':>8} {'max':>8}   {'ORM p50':>8} {'p99':>8}"
        f"   {'LIKE p50':>9} {'p99':>8}   {'x faster (p50)':>14}  matches (median)"
    )
    for query_class, wheres in zip(classes, compiled_classes, strict=True):
        orm = search_samples(engine, wheres, as_shown=False)
        samples = search_samples(engine, wheres, as_shown=True)
        cases = list(zip(query_class.patterns, wheres, strict=True))[:scans]
        scan = scan_samples(engine, cases)
        with factory() as session:
            totals = sorted(briefs_data.search(session, w, 0).total for w in wheres[:25])
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        s50, s99 = percentile(scan, 50), percentile(scan, 99)
        print(
            f"    {query_class.name:<18} {p50:8.2f}ms {p99:6.2f}ms {max(samples):6.2f}ms"
            f"   {percentile(orm, 50):6.2f}ms {percentile(orm, 99):6.2f}ms"
            f"   {s50:7.1f}ms {s99:6.1f}ms   {s50 / p50:12.0f}x  {totals[len(totals) // 2]:,}"
        )


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _in_child(mode: str, url: str, queries: list[str]) -> dict[str, float]:
    """Run `mode` in a fresh Python process; its figures (the clock starts at the spawn)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(queries, handle)
    try:
        output = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.search",
                f"--{mode}",
                url,
                handle.name,
                repr(time.time()),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        Path(handle.name).unlink()
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return figures


def _first_answer_here(url: str, queries_file: str, spawned: str) -> None:
    """A fresh process: open the index, answer one search, then a mix of searches."""
    imported = time.time() - float(spawned)  # the interpreter and every module loaded
    engine = make_engine(url)
    queries = json.loads(Path(queries_file).read_text())
    with session_factory(engine)() as session:
        briefs_data.search(session, compiled(session, "storage"), 5)
    first = time.time() - float(spawned)
    peak_first = _peak_rss_mb()
    with session_factory(engine)() as session:
        wheres = [compiled(session, q) for q in queries]
    for where in wheres:
        with session_factory(engine)() as session:
            briefs_data.search(session, where, 5)
    print(
        json.dumps(
            {
                "first_answer_s": first,
                "imports_s": imported,
                "peak_rss_first_mb": peak_first,
                "steady_rss_mb": _rss_mb(),
                "peak_rss_mb": _peak_rss_mb(),
                "searches": float(len(wheres)),
            }
        )
    )


def _build_here(url: str, _queries_file: str, spawned: str) -> None:
    """A fresh process builds the index from `search_documents` (none on disk)."""
    from policybot.data.search.live import warm
    from policybot.data.search.shared import shared_index

    engine = make_engine(url)
    directory = shared_index(engine).directory
    shutil.rmtree(directory, ignore_errors=True)
    started = time.perf_counter()
    warm(engine)
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    print(
        json.dumps(
            {
                "build_s": seconds,
                "index_mb": size / 2**20,
                "peak_rss_mb": _peak_rss_mb(),
                "spawned_to_end_s": time.time() - float(spawned),
            }
        )
    )


def report_cold_start(url: str, classes: list[QueryClass]) -> None:
    build = _in_child("build", url, [])
    print(
        f"  index build (a fresh process, none on disk): {build['build_s']:.1f} s; index on"
        f" disk {build['index_mb']:.0f} MB; peak RSS {build['peak_rss_mb']:.0f} MB"
    )
    mix = [q for c in classes for q in c.queries[:25]]
    cold = _in_child("first-answer", url, mix)
    print(
        f"  cold start (a fresh process to its first answer, index on disk):"
        f" {cold['first_answer_s']:.2f} s ({cold['imports_s']:.2f} s of it starting Python and"
        f" importing); peak RSS {cold['peak_rss_first_mb']:.0f} MB;"
        f" after {cold['searches']:.0f} more searches RSS {cold['steady_rss_mb']:.0f} MB,"
        f" peak {cold['peak_rss_mb']:.0f} MB"
    )
    print(
        "  previous engine (README, numpy arrays rebuilt in every process): built in 9-10 s"
        " per process, arrays 227 MB, RSS 623 MB after the build, peak 1.2 GB"
    )


def run_engine(name: str, url: str, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    upgrade(engine)
    print(f"{name}: {args.briefs:,} generated briefs (demo-corpus word frequencies)")
    seconds = fill(engine, args.briefs)
    if seconds:
        print(f"  filled in {seconds:.0f} s")
    classes = query_classes(engine, args.queries)
    report_cold_start(url, classes)
    if engine.dialect.name == "postgresql":
        measure(engine, classes, args.scans, "freshly filled (no VACUUM ANALYZE yet)")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        measure(engine, classes, args.scans, "after VACUUM ANALYZE")
    else:
        measure(engine, classes, args.scans, "SQLite file (WAL)")
    engine.dispose()


def postgres_scratch(base_url: str, keep: str | None) -> tuple[str, Callable[[], None]]:
    """A database to fill: `keep` (created if missing, kept) or a scratch one dropped after."""
    name = keep or f"policybot_search_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(base_url)
    admin = make_engine(
        url.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--briefs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per class")
    parser.add_argument("--scans", type=int, default=8, help="LIKE scans per class")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-db", help="use and keep this PostgreSQL database")
    parser.add_argument("--sqlite", help="SQLite file to use and keep (default: a temporary file)")
    parser.add_argument("--only-postgres", action="store_true")
    parser.add_argument("--first-answer", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_answer:
        _first_answer_here(*args.first_answer)
        return
    if args.build:
        _build_here(*args.build)
        return
    with tempfile.TemporaryDirectory() as tmp:
        # The indexes of the benchmark's databases go with them (children inherit this).
        os.environ["POLICYBOT_INDEX_DIR"] = str(Path(tmp) / "search-index")
        if not args.only_postgres:
            run_engine("SQLite", f"sqlite:///{args.sqlite or Path(tmp) / 'search.sqlite3'}", args)
        if not args.no_postgres:
            url, drop = postgres_scratch(args.postgres, args.postgres_db)
            try:
                run_engine("PostgreSQL", url, args)
            finally:
                drop()


if __name__ == "__main__":
    main()
