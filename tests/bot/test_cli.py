"""The command line: console, ask, briefs --json, ingest, db upgrade, serve's settings checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from policybot.bot.cli import main

NOW = "2026-11-29T09:00:00+00:00"


def test_ask_prints_the_reply_on_first_use(runner: CliRunner, db: str) -> None:
    result = runner.invoke(main, ["--db", db, "ask", "/policy storage", "--now", NOW])
    assert result.exit_code == 0, result.output
    assert "1 brief for storage" in result.output
    assert "Action Plan for the High-Quality Development" in result.output
    assert "公开征求对新型储能制造业高质量发展行动方案" in result.output


def test_ask_json_is_block_kit(runner: CliRunner, db: str) -> None:
    result = runner.invoke(main, ["--db", db, "ask", "/policy show b1", "--json", "--now", NOW])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["blocks"][0]["type"] == "header"  # the title once, no headline above it
    assert any(b["type"] == "header" for b in payload["blocks"])
    assert len(payload["blocks"]) <= 50


def test_deadlines_countdown_at_fixed_now(runner: CliRunner, db: str) -> None:
    result = runner.invoke(main, ["--db", db, "ask", "/policy deadlines within 24m", "--now", NOW])
    assert result.exit_code == 0, result.output
    assert "by end of 2027 (397 days left)" in result.output
    # Airbus's "by 2026" is a company's plan: deadlines list policy targets by default.
    assert "by end of 2026 (32 days left)" not in result.output


def test_briefs_json_fields(runner: CliRunner, db: str) -> None:
    result = runner.invoke(main, ["--db", db, "briefs", "--json"])
    assert result.exit_code == 0, result.output
    briefs = json.loads(result.output)
    assert len(briefs) == 23
    first = next(
        b for b in briefs if b["title_original"] == "关于印发《新材料大数据中心总体建设方案》的通知"
    )
    assert set(first) >= {
        "id",
        "kind",
        "title",
        "title_original",
        "issuing_bodies",
        "published_on",
        "summary",
        "comment",
        "links",
        "goals",
    }
    assert first["issuing_bodies"] == ["MIIT", "MOF", "NDB"]
    assert first["published_on"] == "2024-10-30"
    assert [g["deadline"] for g in first["goals"]] == ["2027-12-31", "2035-12-31", None]
    assert {"text", "deadline", "precision", "window_start"} <= set(first["goals"][0])


def test_console_reads_commands_from_stdin(runner: CliRunner, db: str) -> None:
    script = "/policy latest 7\nmore\n/policy 储能\nquit\n/policy never-run\n"
    result = runner.invoke(main, ["--db", db, "--now", NOW], input=script)
    assert result.exit_code == 0, result.output
    assert "The 7 newest briefs" in result.output
    assert "Showing 6\u20137 of 7." in result.output
    assert "1 brief for 储能" in result.output
    assert "never-run" not in result.output


def test_ingest_reports_and_fails_on_bad_file(runner: CliRunner, db: str, tmp_path: Path) -> None:
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"\x00\x01binary")
    demo = Path(__file__).resolve().parents[2] / "data" / "corpus"
    good = next(demo.glob("*.txt"))
    result = runner.invoke(main, ["--db", db, "ingest", str(good), str(bad)])
    assert result.exit_code == 1
    assert "broken.txt" in result.output
    assert "binary" in result.output
    # The demo corpus was already loaded on first use: everything unchanged.
    assert "23" in result.output


def test_db_upgrade_is_idempotent(runner: CliRunner, db: str) -> None:
    for _ in range(2):
        result = runner.invoke(main, ["--db", db, "db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "HTTP mode needs SLACK_SIGNING_SECRET"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "Socket Mode needs SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong", "SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN must be"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": "abc"},
            "PORT must be a number",
        ),
    ],
)
def test_serve_names_missing_settings(
    runner: CliRunner, db: str, env: dict[str, str], message: str
) -> None:
    result = runner.invoke(main, ["--db", db, "serve"], env=env)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_remind_then_tick_on_the_system_clock_under_freezegun(runner: CliRunner, db: str) -> None:
    """The issue's console scenario, with no --now: the system clock is frozen instead."""
    from freezegun import freeze_time

    with freeze_time("2026-11-29 09:00:00"):
        deadlines = runner.invoke(main, ["--db", db, "ask", "/policy deadlines within 24m"])
        assert "by end of 2027 (397 days left)" in deadlines.output
        assert runner.invoke(main, ["--db", db, "ask", "/policy remind tz UTC"]).exit_code == 0
    with freeze_time("2026-12-31 09:00:00"):
        first = runner.invoke(main, ["--db", db, "tick"])
        second = runner.invoke(main, ["--db", db, "tick"])
    assert first.exit_code == 0, first.output
    assert first.output.count("(365 days left)") == 5
    # The five 2027 targets; Airbus's "by 2026" is a company's plan, not alerted by default.
    assert "tick: 5 item(s) sent in 1 message(s)" in first.output
    assert second.output.strip() == "tick: 0 item(s) sent in 0 message(s), 0 to retry"


def test_the_console_makes_calendar_urls_from_the_public_url(runner: CliRunner, db: str) -> None:
    """An admin at the production database's console gets the URL `serve` will answer."""
    ask = ["--db", db, "ask", "/policy deadlines calendar storage", "--now", NOW]
    without = runner.invoke(main, ask, env={"POLICYBOT_PUBLIC_URL": ""})
    assert without.exit_code == 0, without.output
    assert "POLICYBOT_PUBLIC_URL" in without.output and "/calendar/" not in without.output
    result = runner.invoke(main, ask, env={"POLICYBOT_PUBLIC_URL": "https://bot.example.org"})
    assert result.exit_code == 0, result.output
    assert "https://bot.example.org/calendar/" in result.output
