"""Ingestion throughput in briefs per CPU-second (goal: >= 1,000 on SQLite and PostgreSQL),
beside its floor from the same run, and PDF throughput (pages/s, goal >= 20) on a 40-page
generated tracker.

    python -m benchmarks.ingest [--briefs 2000] [--per-file 500] [--uniform] [--pdf-pages 40]
                                [--postgres URL] [--skip-sqlite]

The corpus is generated with the demo corpus's word frequencies (benchmarks/corpus.py);
`--uniform` draws every word equally often, as the first version of the generator did.

CPU time, not wall time, since the machine may be shared: this process's CPU (the client;
on SQLite the database engine runs in it too) plus, on PostgreSQL, the CPU of the server
backends serving this run's connections (read from /proc/<pid>/stat of each backend, found
with pg_backend_pid(); the server must run on this machine). PostgreSQL runs use scratch
databases made on the `--postgres` server and dropped afterwards.

Figures, each on a fresh database:
- first ingestion: `ingest_paths` on the generated files (reading, parsing, storing,
  search documents), a transaction per file;
- re-ingestion: the same files again (every brief unchanged);
- parsing alone: `parse_bytes` of the same files, no database;
- floor: the rows the first ingestion stored (source documents, bodies and aliases,
  briefs, their bodies and goals, search documents, vocabulary), inserted into an empty
  database with one executemany INSERT per table, a transaction per file. What ingestion
  cannot go below without storing less.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, event, insert, select, text
from sqlalchemy.engine import make_url

from benchmarks.corpus import generate_issue
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.ingest.parser import parse_bytes
from policybot.data.ingest.pdf import pdf_pages
from policybot.data.ingest.writer import ingest_paths
from policybot.data.models import (
    BodyAlias,
    Brief,
    Goal,
    IssuingBody,
    SearchDocument,
    SourceDocument,
    VocabularyTerm,
    brief_bodies,
)
from tests.data.tracker_pdf import tracker_pdf

_LINES_PER_PAGE = 48
GOAL_PER_CPU_SECOND = 1_000
_TICKS = os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU seconds of the PostgreSQL backends that served an engine's connections (none on
    SQLite, whose work is this process's)."""

    def __init__(self, engine: Engine) -> None:
        self.pids: set[int] = set()
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", self._remember)
            engine.dispose()  # connections made before listening reconnect, and are seen

    def _remember(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        self.pids.add(int(cursor.fetchone()[0]))
        cursor.close()
        dbapi_connection.commit()

    def seconds(self) -> float:
        total = 0
        for pid in self.pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:  # a backend that ended: its CPU is no longer readable
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / _TICKS


@dataclass
class Cpu:
    client: float = 0.0
    server: float = 0.0

    @property
    def total(self) -> float:
        return self.client + self.server


@contextmanager
def measured(server: ServerCpu | None) -> Iterator[Cpu]:
    """CPU of the block: this process's, and the server backends' (their CPU before the
    block subtracted; a backend first connected inside it counts from zero)."""
    cpu = Cpu()
    before_server = server.seconds() if server else 0.0
    before = time.process_time()
    yield cpu
    cpu.client = time.process_time() - before
    cpu.server = (server.seconds() if server else 0.0) - before_server


def write_corpus(folder: Path, briefs: int, per_file: int, uniform: bool) -> list[Path]:
    files = []
    for index in range(0, briefs, per_file):
        path = folder / f"issue-{index:06d}.txt"
        count = min(per_file, briefs - index)
        path.write_text(generate_issue(count, seed=index, uniform=uniform), "utf-8")
        files.append(path)
    return files


def fresh_engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


@contextmanager
def scratch_urls(server_url: str, count: int) -> Iterator[list[str]]:
    """`count` empty PostgreSQL databases on the server of `server_url`, dropped after."""
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    names = [f"policybot_bench_ingest_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    base = make_url(server_url)
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield [base.set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# The tables ingestion writes, in the order foreign keys allow inserting them.
_BY_DOCUMENT: list[Table] = [
    SourceDocument.__table__,  # type: ignore[list-item]
    Brief.__table__,  # type: ignore[list-item]
    brief_bodies,
    Goal.__table__,  # type: ignore[list-item]
    SearchDocument.__table__,  # type: ignore[list-item]
]
_SHARED: list[Table] = [
    IssuingBody.__table__,  # type: ignore[list-item]
    BodyAlias.__table__,  # type: ignore[list-item]
    VocabularyTerm.__table__,  # type: ignore[list-item]
]


def stored_rows(engine: Engine) -> list[list[tuple[Table, list[dict[str, Any]]]]]:
    """What ingestion stored, as one list of (table, rows) per file (the shared tables with
    the first file), for the floor to insert again."""
    with engine.connect() as connection:

        def rows(table: Table) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in connection.execute(select(table))]

        documents = rows(_BY_DOCUMENT[0])
        briefs = rows(_BY_DOCUMENT[1])
        document_of = {b["id"]: b["source_document_id"] for b in briefs}
        per_document: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for document in documents:
            per_document[document["id"]]["source_documents"].append(document)
        for brief in briefs:
            per_document[brief["source_document_id"]]["briefs"].append(brief)
        for table in _BY_DOCUMENT[2:]:
            for row in rows(table):
                per_document[document_of[row["brief_id"]]][table.name].append(row)
        shared = [(t, rows(t)) for t in _SHARED]
    files = [[(t, per_document[d["id"]][t.name]) for t in _BY_DOCUMENT] for d in documents]
    files[0] = shared + files[0]
    return files


def insert_floor(engine: Engine, files: list[list[tuple[Table, list[dict[str, Any]]]]]) -> None:
    for tables in files:
        with engine.begin() as connection:
            for table, rows in tables:
                if rows:
                    connection.execute(insert(table), rows)


def per_cpu_second(briefs: int, cpu: Cpu) -> str:
    return f"{briefs / cpu.total:,.0f} briefs/CPU-s" if cpu.total else "-"


def cpu_line(label: str, briefs: int, cpu: Cpu, postgres: bool, note: str = "") -> str:
    split = f" (client {cpu.client:.2f} + server {cpu.server:.2f})" if postgres else ""
    return f"  {label:<18} {cpu.total:5.2f} CPU-s{split} -> {per_cpu_second(briefs, cpu)}{note}"


@dataclass
class Figures:
    briefs: int
    files: int
    first: Cpu
    floor: Cpu
    parsing: Cpu
    again: Cpu
    unchanged: int


def measure(url: str, floor_url: str, files: list[Path]) -> Figures:
    """One run: first ingestion and re-ingestion on `url`, the floor on `floor_url` (both
    empty databases), parsing alone."""
    engine = fresh_engine(url)
    server = ServerCpu(engine)
    factory = session_factory(engine)
    with engine.connect() as connection:  # the backend starts outside the measurement
        connection.execute(text("SELECT 1"))
    with measured(server) as first:
        results = ingest_paths(factory, files, datetime.now(UTC))
    added = sum(getattr(r, "added", 0) for r in results)
    with measured(server) as again:
        repeated = ingest_paths(factory, files, datetime.now(UTC))
    unchanged = sum(getattr(r, "unchanged", 0) for r in repeated)
    rows = stored_rows(engine)
    engine.dispose()

    floor_engine = fresh_engine(floor_url)
    floor_server = ServerCpu(floor_engine)
    with floor_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    with measured(floor_server) as floor:
        insert_floor(floor_engine, rows)
    floor_engine.dispose()

    with measured(None) as parsing:
        for path in files:
            parse_bytes(path.read_bytes(), str(path))
    return Figures(added, len(files), first, floor, parsing, again, unchanged)


def median_cpu(values: list[Cpu]) -> Cpu:
    """The run whose total is the median (client and server of the same run)."""
    return sorted(values, key=lambda c: c.total)[len(values) // 2]


def report(name: str, runs: list[Figures], postgres: bool) -> None:
    last = runs[-1]
    first = median_cpu([r.first for r in runs])
    added = last.briefs
    verdict = "met" if added / max(first.total, 1e-9) >= GOAL_PER_CPU_SECOND else "MISSED"
    print(f"{name}: {added} briefs in {last.files} files, median of {len(runs)} run(s)")
    goal = f"  (goal >= {GOAL_PER_CPU_SECOND:,}: {verdict})"
    print(cpu_line("first ingestion", added, first, postgres, goal))
    floor = median_cpu([r.floor for r in runs])
    print(cpu_line("floor (executemany)", added, floor, postgres, "  (same rows, bare INSERTs)"))
    parsing = median_cpu([r.parsing for r in runs])
    print(cpu_line("  of which parsing", added, parsing, False, "  (no database)"))
    again = median_cpu([r.again for r in runs])
    unchanged = f"  ({last.unchanged} unchanged)"
    print(cpu_line("re-ingestion", last.unchanged, again, postgres, unchanged))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--briefs", type=int, default=2_000)
    parser.add_argument("--per-file", type=int, default=500)
    parser.add_argument("--uniform", action="store_true", help="every word equally frequent")
    parser.add_argument("--pdf-pages", type=int, default=40, help="pages of the generated PDF")
    parser.add_argument(
        "--postgres", help="PostgreSQL server URL to benchmark too (scratch databases on it)"
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--skip-pdf", action="store_true", help="no PDF figures")
    parser.add_argument("--runs", type=int, default=3, help="runs per engine (medians shown)")
    args = parser.parse_args()
    if not args.skip_pdf:
        pdf_throughput(args.pdf_pages)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_corpus(folder, args.briefs, args.per_file, args.uniform)
        if not args.skip_sqlite:
            runs = []
            for run in range(args.runs):
                urls = [f"sqlite:///{folder / f'bench-{run}-{n}.sqlite3'}" for n in (1, 2)]
                runs.append(measure(urls[0], urls[1], files))
            report("SQLite", runs, postgres=False)
        if args.postgres:
            runs = []
            for _ in range(args.runs):
                with scratch_urls(args.postgres, 2) as urls:
                    runs.append(measure(urls[0], urls[1], files))
            report("PostgreSQL", runs, postgres=True)


def pdf_throughput(pages: int) -> None:
    """Extraction alone, then extraction + parsing, on a tracker PDF of `pages` pages."""
    briefs = 4
    while True:
        raw = tracker_pdf(generate_issue(briefs, seed=7), lines_per_page=_LINES_PER_PAGE)
        if len(pdf_pages(raw, "bench.pdf")) >= pages:
            break
        briefs += 4
    count = len(pdf_pages(raw, "bench.pdf"))
    runs = 5
    started = time.perf_counter()
    for _ in range(runs):
        pdf_pages(raw, "bench.pdf")
    extract = (time.perf_counter() - started) / runs
    started = time.perf_counter()
    for _ in range(runs):
        issue = parse_bytes(raw, "tracker-2024-11.pdf")
    whole = (time.perf_counter() - started) / runs
    print(f"PDF:               {count} pages, {len(issue.briefs)} briefs, {len(raw) / 1024:.0f} KB")
    print(f"PDF extraction:    {extract * 1000:.0f} ms -> {count / extract:,.0f} pages/s")
    print(
        f"PDF to records:    {whole * 1000:.0f} ms -> {count / whole:,.0f} pages/s "
        "(extraction + parsing; goal >= 20)"
    )


if __name__ == "__main__":
    main()
