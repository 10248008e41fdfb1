"""Two ingests of one file at the same moment on PostgreSQL, made to collide for certain:
the first holds its transaction open after writing; the second, on another engine, waits on
the unique keys, sees the first commit, and must retry and report "already ingested"."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from policybot.data.db import make_engine, session_factory
from policybot.data.ingest.parser import parse_file
from policybot.data.ingest.text import ParseError
from policybot.data.ingest.writer import IngestSummary, IssueWriter, ingest_paths
from policybot.data.models import Brief, SourceDocument
from tests.data.layout_variants import DEMO

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.postgres
def test_the_loser_of_a_race_retries_and_reports_already_ingested(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    first_engine, second_engine = make_engine(fresh_postgres_url), make_engine(fresh_postgres_url)
    later = tmp_path / "later-2024-12.txt"
    later.write_text(
        "At a glance: The NEA issued a coal notice.\n\nArticle: Coal Notice (煤炭通知) (Link)"
        "\n\nIssuing body: NEA\n\nDate: December 20, 2024\n",
        "utf-8",
    )
    results: list[IngestSummary | ParseError] = []
    try:
        with session_factory(first_engine)() as first, first.begin():
            issue = parse_file(DEMO)
            IssueWriter(first, NOW).write(issue, hashlib.sha256(DEMO.read_bytes()).hexdigest())
            first.flush()
            racer = threading.Thread(
                target=lambda: results.extend(
                    ingest_paths(session_factory(second_engine), [DEMO, later], NOW)
                )
            )
            racer.start()
            # Wait until the second ingest is blocked on the first one's rows (autocommit:
            # pg_stat_activity is a snapshot per transaction).
            with first_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
                for _ in range(500):
                    waiting = watcher.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        )
                    ).scalar()
                    if waiting:
                        break
                    threading.Event().wait(0.02)
                assert waiting, f"the second ingest never waited on the first: {results}"
        racer.join(timeout=60)
        assert not racer.is_alive()
        demo_result, later_result = results
        assert isinstance(demo_result, IngestSummary), demo_result
        assert demo_result.already_ingested
        assert (demo_result.added, demo_result.unchanged) == (0, 23)
        assert isinstance(later_result, IngestSummary) and later_result.added == 1
        with session_factory(first_engine)() as session:
            assert session.scalar(select(func.count()).select_from(Brief)) == 24
            assert session.scalar(select(func.count()).select_from(SourceDocument)) == 2
    finally:
        first_engine.dispose()
        second_engine.dispose()
