"""Ingestion throughput on a generated corpus of 10,000 briefs (goal: >= 1,000 briefs/s on SQLite),
and PDF throughput (pages/s) on a 40-page generated tracker.

    python -m benchmarks.ingest [--briefs 10000] [--per-file 500] [--db URL] [--uniform] [--pdf-pages 40]

The corpus is generated with the demo corpus's word frequencies (benchmarks/corpus.py);
`--uniform` draws every word equally often, as the first version of the generator did.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.corpus import generate_issue
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.ingest.parser import parse_bytes
from policybot.data.ingest.pdf import pdf_pages
from policybot.data.ingest.writer import ingest_paths
from tests.data.tracker_pdf import tracker_pdf

_LINES_PER_PAGE = 48


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--briefs", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=500)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--uniform", action="store_true", help="every word equally frequent")
    parser.add_argument("--pdf-pages", type=int, default=40, help="pages of the generated PDF")
    args = parser.parse_args()
    pdf_throughput(args.pdf_pages)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = []
        for index in range(0, args.briefs, args.per_file):
            path = folder / f"issue-{index:06d}.txt"
            path.write_text(
                generate_issue(
                    min(args.per_file, args.briefs - index), seed=index, uniform=args.uniform
                ),
                "utf-8",
            )
            files.append(path)
        url = args.db or f"sqlite:///{folder / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        factory = session_factory(engine)
        started = time.perf_counter()
        results = ingest_paths(factory, files, datetime.now(UTC))
        elapsed = time.perf_counter() - started
        added = sum(getattr(r, "added", 0) for r in results)
        started = time.perf_counter()
        again = ingest_paths(factory, files, datetime.now(UTC))
        idle = time.perf_counter() - started
        unchanged = sum(getattr(r, "unchanged", 0) for r in again)
        engine.dispose()
    print(f"engine:            {engine.dialect.name}")
    print(f"briefs ingested:   {added} in {len(files)} files")
    print(f"first ingestion:   {elapsed:.2f} s  -> {added / elapsed:,.0f} briefs/s (goal >= 1,000)")
    print(
        f"re-ingestion:      {idle:.2f} s  -> {unchanged / idle:,.0f} briefs/s, {unchanged} unchanged"
    )


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
        f"PDF to records:    {whole * 1000:.0f} ms -> {count / whole:,.0f} pages/s (extraction + parsing)"
    )


if __name__ == "__main__":
    main()
