"""`policybot export ics|csv` and the console's saved file for `deadlines ics`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from policybot.bot.cli import main

NOW = "2026-11-29T09:00:00+00:00"


def uids(raw: bytes) -> list[str]:
    return [str(e["UID"]) for e in Calendar.from_ical(raw).walk("VEVENT")]


def test_export_ics_to_stdout_is_a_calendar_and_stable(runner: CliRunner, db: str) -> None:
    first = runner.invoke(main, ["--db", db, "--now", NOW, "export", "ics"])
    assert first.exit_code == 0, first.output
    assert first.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")
    assert len(uids(first.stdout_bytes)) == 7  # policy targets (company plans left out)
    again = runner.invoke(main, ["--db", db, "--now", NOW, "export", "ICS"])
    assert again.exit_code == 0, again.output
    assert again.stdout_bytes == first.stdout_bytes


def test_export_csv_to_file_with_query_and_window(
    runner: CliRunner, db: str, tmp_path: Path
) -> None:
    out = tmp_path / "deadlines.csv"
    result = runner.invoke(
        main,
        [
            "--db",
            db,
            "--now",
            NOW,
            "export",
            "csv",
            "--query",
            "body:MIIT",
            "--within",
            "24m",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"5 deadlines written to {out}" in result.stderr
    assert result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 5
    assert {r["deadline"] for r in rows} == {"2027-12-31"}
    assert all("MIIT" in r["bodies"] for r in rows)
    assert {r["days_left"] for r in rows} == {"397"}


def test_export_errors_are_messages(runner: CliRunner, db: str) -> None:
    bad_body = runner.invoke(main, ["--db", db, "export", "ics", "-q", "body:Nowhere"])
    assert bad_body.exit_code == 1
    assert "I don't know an issuing body called `Nowhere`" in bad_body.output
    bad_window = runner.invoke(main, ["--db", db, "export", "csv", "--within", "soon"])
    assert bad_window.exit_code == 1
    assert "is not a period I know" in bad_window.output
    bad_format = runner.invoke(main, ["--db", db, "export", "pdf"])
    assert bad_format.exit_code == 2


def test_export_with_no_match_warns_and_writes_an_empty_calendar(
    runner: CliRunner, db: str
) -> None:
    result = runner.invoke(main, ["--db", db, "--now", NOW, "export", "ics", "-q", "nosuchword"])
    assert result.exit_code == 0, result.output
    assert uids(result.stdout_bytes) == []
    assert "no deadlines match" in result.stderr


def test_ask_deadlines_ics_saves_the_file_here(
    runner: CliRunner, db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = runner.invoke(main, ["--db", db, "ask", "/policy deadlines ics storage", "--now", NOW])
    assert result.exit_code == 0, result.output
    saved = here / "policybot-deadlines.ics"
    assert "Calendar of 3 deadlines for storage (policybot-deadlines.ics)" in result.output
    assert "File: policybot-deadlines.ics (text/calendar" in result.output
    assert f"Saved to {saved.resolve()}" in result.output
    assert len(uids(saved.read_bytes())) == 3


def test_console_says_when_it_cannot_save(
    runner: CliRunner, db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policybot-deadlines.csv").mkdir()  # a directory where the file would go
    result = runner.invoke(main, ["--db", db, "--now", NOW], input="/policy deadlines csv\nquit\n")
    assert result.exit_code == 0, result.output
    assert "Spreadsheet of 7 deadlines (policybot-deadlines.csv)" in result.output
    assert f"Could not save {tmp_path / 'policybot-deadlines.csv'}" in result.output
