"""`policybot ingest`: PDFs, --dry-run [--json], and files that are not tracker files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from policybot.bot.cli import main
from policybot.data.db import make_engine, session_factory
from policybot.data.models import Brief, SourceDocument
from tests.data.layout_variants import DEMO
from tests.data.tracker_pdf import tracker_pdf


def _counts(db: str) -> tuple[int, int]:
    engine = make_engine(db)
    try:
        with session_factory(engine)() as session:
            return (
                session.scalar(select(func.count()).select_from(Brief)) or 0,
                session.scalar(select(func.count()).select_from(SourceDocument)) or 0,
            )
    finally:
        engine.dispose()


@pytest.fixture
def empty_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("POLICYBOT_LOAD_DEMO", "0")
    return f"sqlite:///{tmp_path / 'empty.sqlite3'}"


def test_pdf_is_ingested_and_a_second_copy_is_unchanged(
    runner: CliRunner, empty_db: str, tmp_path: Path
) -> None:
    pdf = tmp_path / "china-industrial-policy-tracker-2024-11.pdf"
    pdf.write_bytes(tracker_pdf(DEMO.read_text("utf-8")))
    first = runner.invoke(main, ["--db", empty_db, "ingest", str(pdf)])
    assert first.exit_code == 0, first.output
    assert _counts(empty_db) == (23, 1)
    again = runner.invoke(main, ["--db", empty_db, "ingest", str(DEMO)])
    assert again.exit_code == 0, again.output
    assert _counts(empty_db) == (23, 2)  # the text file is another document, same briefs
    assert "23" in again.output


def test_dry_run_writes_nothing_and_says_what_would_happen(
    runner: CliRunner, empty_db: str
) -> None:
    result = runner.invoke(main, ["--db", empty_db, "ingest", "--dry-run", str(DEMO)])
    assert result.exit_code == 0, result.output
    # A Nov 2024 issue read now is a back issue: stored as archive, not posted.
    assert "would add 23 (23 archive: not posted), update 0, leave 0 unchanged" in result.output
    assert "add       policy Action Plan for the High-Quality Development" in result.output
    assert _counts(empty_db) == (0, 0)


def test_dry_run_json_has_per_brief_actions_and_warnings(
    runner: CliRunner, empty_db: str, tmp_path: Path
) -> None:
    edited = tmp_path / "tracker-2024-11.txt"
    text = DEMO.read_text("utf-8").replace("Date: November 6, 2024", "Date: soon", 1)
    edited.write_text(text, "utf-8")
    runner.invoke(main, ["--db", empty_db, "ingest", str(DEMO)])
    result = runner.invoke(main, ["--db", empty_db, "ingest", "--dry-run", "--json", str(edited)])
    assert result.exit_code == 0, result.output
    (preview,) = json.loads(result.output)
    actions = [b["action"] for b in preview["briefs"]]
    # The brief whose date went unreadable is the stored one (same title); losing its date
    # is not applied without --replace: it stays unchanged, the loss named.
    assert actions.count("update") == 0 and actions.count("unchanged") == 23
    kept = next(b for b in preview["briefs"] if b["would_remove"])
    assert kept["warnings"][0] == (
        f"brief {kept['title']!r} has unreadable date 'soon': stored undated, "
        "so `latest` and `since:` will not show it"
    )
    assert kept["would_remove"] == [f"{kept['id']}: its date (06 Nov 2024)"]
    assert preview["would_remove"] == kept["would_remove"] and not preview["replace"]
    replaced = runner.invoke(
        main, ["--db", empty_db, "ingest", "--dry-run", "--json", "--replace", str(edited)]
    )
    (preview,) = json.loads(replaced.output)
    actions = [b["action"] for b in preview["briefs"]]
    assert actions.count("update") == 1 and actions.count("unchanged") == 22
    updated = next(b for b in preview["briefs"] if b["action"] == "update")
    assert updated["warnings"][1].startswith("date no longer readable (was 6 Nov 2024)")
    assert _counts(empty_db) == (23, 1)


def test_the_summary_counts_warnings_and_undated_briefs(
    runner: CliRunner, empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # the table's result column unwrapped
    one = tmp_path / "one-ambiguous.txt"
    one.write_text(DEMO.read_text("utf-8").replace("Date: November 6, 2024", "Date: 10/11/2024"))
    result = runner.invoke(main, ["--db", empty_db, "ingest", str(one)])
    assert result.exit_code == 0, result.output
    assert "ok (1 warning, 1 brief undated)" in result.output
    assert "ambiguous date '10/11/2024' (10 Nov or 11 Oct 2024?), not guessed" in result.output


def test_not_regular_files_are_refused_and_later_files_still_run(
    runner: CliRunner, empty_db: str, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = runner.invoke(
        main, ["--db", empty_db, "ingest", str(fifo), "/dev/zero", str(tmp_path), str(DEMO)]
    )
    assert result.exit_code == 1
    assert "pipe: this is a FIFO (named pipe); only regular files are ingested" in result.output
    assert "/dev/zero: this is a device" in result.output
    assert "this is a directory" in result.output
    assert "Traceback" not in result.output
    assert _counts(empty_db) == (23, 1)


def test_oversized_file_is_refused_with_the_limit(
    runner: CliRunner, empty_db: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)  # sparse: 3 MB without writing them
    result = runner.invoke(main, ["--db", empty_db, "ingest", "--max-mb", "2", str(big)])
    assert result.exit_code == 1
    assert "the file is 3.0 MB; the limit is 2.0 MB" in result.output
    assert _counts(empty_db) == (0, 0)


@pytest.mark.postgres
def test_concurrent_ingests_of_one_file_on_postgresql(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    """Two processes, same files, same moment: both succeed (one may say "already
    ingested"), no traceback, and each goes on to its next file."""
    second = tmp_path / "other-2024-12.txt"
    second.write_text(
        "At a glance: The NEA issued a coal notice.\n\nArticle: Coal Notice (煤炭通知) (Link)"
        "\n\nIssuing body: NEA\n\nDate: December 20, 2024\n",
        "utf-8",
    )
    env = os.environ | {
        "POLICYBOT_LOAD_DEMO": "0",
        "POLICYBOT_DATABASE_URL": fresh_postgres_url,
        "COLUMNS": "300",  # one table row per file: the result column unwrapped
    }
    command = [sys.executable, "-m", "policybot.bot", "ingest", str(DEMO), str(second)]
    processes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out + err
        assert "Traceback" not in out + err
        rows = [line for line in out.splitlines() if line.startswith("\u2502")]
        assert len(rows) == 2 and "error" not in out  # both files, the second one too
    assert _counts(fresh_postgres_url) == (24, 2)


def test_archive_and_new_are_the_admins_word(
    runner: CliRunner, empty_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By its date the Nov 2024 demo issue is archive when ingested in Nov 2026; --new makes
    it news (stored briefs re-marked), --archive takes it back."""
    monkeypatch.setenv("COLUMNS", "300")  # the table's result column unwrapped
    now = ["--db", empty_db, "--now", "2026-11-29T09:00:00+00:00", "ingest"]
    first = runner.invoke(main, [*now, str(DEMO)])
    assert first.exit_code == 0, first.output
    assert "23 archive: not posted" in first.output
    marked = runner.invoke(main, [*now, "--new", str(DEMO)])
    assert "23 new" in marked.output
    back = runner.invoke(main, [*now, "--archive", str(DEMO)])
    assert "23 archive: not posted" in back.output
    fresh_db = empty_db.replace("empty.sqlite3", "fresh.sqlite3")
    recent = runner.invoke(
        main, ["--db", fresh_db, "--now", "2024-12-02T09:00:00+00:00", "ingest", str(DEMO)]
    )
    assert "23 new" in recent.output  # the same issue in its own month: news


def test_a_degraded_pdf_keeps_stored_deadlines_until_replace(
    runner: CliRunner, empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.data.test_ingest_degraded import DEGRADED, GOOD, without_second_extractor

    without_second_extractor(monkeypatch)  # no second reading helps
    monkeypatch.setenv("COLUMNS", "300")
    good, degraded = tmp_path / "robots.pdf", tmp_path / "robots-copy.pdf"
    good.write_bytes(GOOD)
    degraded.write_bytes(DEGRADED)
    now = ["--db", empty_db, "--now", "2024-12-20T09:00:00+00:00", "ingest"]
    assert runner.invoke(main, [*now, str(good)]).exit_code == 0
    dry = runner.invoke(main, [*now, "--dry-run", str(degraded)])
    assert "Stored facts this file lacks, kept" in dry.output
    assert "b1: the deadline of g1 \u201c到2027年" in dry.output
    kept = runner.invoke(main, [*now, str(degraded)])
    assert kept.exit_code == 0, kept.output
    assert "kept 2 stored fact(s)" in kept.output
    assert "would remove b1: its date (10 Dec 2024): kept (--replace removes it)" in kept.output
    engine = make_engine(empty_db)
    try:
        with session_factory(engine)() as session:
            brief = session.scalars(select(Brief)).one()
            assert brief.published_on is not None and brief.goals[0].due_on is not None
    finally:
        engine.dispose()
    replaced = runner.invoke(main, [*now, "--replace", str(degraded)])
    assert "removed as asked (--replace): b1: its date (10 Dec 2024)" in replaced.output
    engine = make_engine(empty_db)
    try:
        with session_factory(engine)() as session:
            brief = session.scalars(select(Brief)).one()
            assert brief.published_on is None and brief.goals[0].due_on is None
    finally:
        engine.dispose()
