"""Hostile PDFs through the real edges: a signed `file_shared` event with the file served by
the fake Slack, and `policybot ingest`. The uploader gets a sentence naming the limit, the
server keeps answering everyone else, nothing is kept, one WARNING is logged."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from policybot.bot.cli import main
from policybot.bot.services import Services
from policybot.bot.settings import Settings, SettingsError
from policybot.data.ingest import isolation
from policybot.data.ingest.isolation import MB, ReadLimits, configure
from policybot.data.models import PendingIntake
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, LiveServer
from tests.bot.test_http import post, slash_form, wait_for
from tests.bot.test_intake import ADMIN, file_event, refusal_text
from tests.data import hostile_pdf
from tests.fakeslack import FakeSlack

PDF_LIMITS = {"POLICYBOT_PDF_MEMORY_MB": "512", "POLICYBOT_PDF_SECONDS": "20"}


@pytest.fixture(autouse=True)
def default_limits() -> Iterator[None]:
    yield
    configure(ReadLimits())  # build_services set this test's limits for the process
    # A read the server abandoned must not hold its workspace's turn in the next test.
    assert wait_for(lambda: not readers_running(), timeout=60)


@pytest.fixture
def settings(tmp_path: Path, fake: FakeSlack) -> Settings:
    fake.set_user(ADMIN, is_admin=True, name="analyst")
    return Settings.from_env(
        PDF_LIMITS,
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
    )


def readers_running() -> list[int]:
    """This process's PDF reader children still running."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == os.getpid() and b"child_main" in command:
            found.append(int(entry.name))
    return found


def pending_intakes(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(PendingIntake)) or 0


def add_pdf(fake: FakeSlack, file_id: str, name: str, raw: bytes) -> None:
    fake.add_file(file_id, name, raw, mimetype="application/pdf", filetype="pdf")


def test_a_slow_bomb_is_refused_the_next_from_its_workspace_too_and_search_goes_on(
    live: LiveServer, services: Services, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    # 2,000 pages sharing one stream of 1 MB of drawing: over a minute of CPU, no text,
    # from a 20 KB file.
    add_pdf(fake, "F1", "slow.pdf", hostile_pdf.many_pages(2000, 1_000_000, drawing=True))
    add_pdf(fake, "F2", "second.pdf", hostile_pdf.xobject_fanout(20))
    file_event(live, "F1", "D1", "Ev1")
    assert wait_for(readers_running, timeout=20)  # the slow file is being read

    # The same workspace's next PDF is refused at once, not queued behind it.
    file_event(live, "F2", "D2", "Ev2")
    assert refusal_text(fake, "D2") == (
        "I can't ingest second.pdf: I am already reading another PDF from this workspace; "
        "send this one again when that one is done. Nothing was added."
    )
    # Meanwhile a search is answered as usual.
    assert readers_running()
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "storage")))
    assert status == 200
    assert "1 brief for storage" in json.loads(body)["text"]

    assert wait_for(lambda: fake.posted_messages("D1"), timeout=60)  # the 20 s deadline
    assert refusal_text(fake, "D1") == (
        "I can't ingest slow.pdf: this PDF took longer than 20 s to read; not read. "
        "Nothing was added."
    )
    assert pending_intakes(services) == 0
    warnings = [r for r in caplog.records if r.name == isolation.__name__]
    assert [r.getMessage().split(":")[0] for r in warnings] == [
        "PDF 'second.pdf' not read (busy limit)",
        "PDF 'slow.pdf' not read (time limit)",
    ]
    assert not [r for r in caplog.records if r.exc_info or r.levelno > logging.WARNING]


def test_a_memory_bomb_in_an_intake_channel_gets_the_sentence_and_the_server_lives(
    live: LiveServer, services: Services, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    add_pdf(fake, "F3", "bomb.pdf", hostile_pdf.flate_bomb(10_000_000))
    file_event(live, "F3", "D3", "Ev3")
    assert refusal_text(fake, "D3") == (
        "I can't ingest bomb.pdf: this PDF needs more than 512 MB of memory to read; "
        "not read. Nothing was added."
    )
    assert pending_intakes(services) == 0
    # The server is alive and answers the next request.
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "storage")))
    assert status == 200 and "1 brief for storage" in json.loads(body)["text"]
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1 and records[0].exc_info is None
    assert "bomb.pdf" in records[0].getMessage() and "(memory limit)" in records[0].getMessage()


def test_the_ingest_command_refuses_a_bomb_with_the_sentence(
    runner: CliRunner, db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_LOAD_DEMO", "0")
    monkeypatch.setenv("POLICYBOT_PDF_INFLATED_MB", "32")
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(hostile_pdf.flate_bomb(50_000_000))
    result = runner.invoke(main, ["--db", db, "ingest", str(bomb)])
    assert result.exit_code == 1
    assert f"error: {bomb}: this PDF expands past 32 MB when decompressed; not read" in (
        result.stderr
    )
    assert "Traceback" not in result.output + result.stderr

    dry = runner.invoke(main, ["--db", db, "ingest", "--dry-run", "--json", str(bomb)])
    assert json.loads(dry.stdout)[0]["error"] == (
        "this PDF expands past 32 MB when decompressed; not read"
    )


def test_pdf_limits_are_settings_with_defaults() -> None:
    defaults = Settings.from_env({}, database_url="sqlite://")
    assert defaults.pdf_limits() == ReadLimits()
    assert ReadLimits() == ReadLimits(
        memory_bytes=1024 * MB, seconds=30, text_bytes=10 * MB, inflated_bytes=64 * MB, parallel=2
    )
    custom = Settings.from_env(
        {
            "POLICYBOT_PDF_MEMORY_MB": "768",
            "POLICYBOT_PDF_SECONDS": "12",
            "POLICYBOT_PDF_TEXT_MB": "4",
            "POLICYBOT_PDF_INFLATED_MB": "200",
            "POLICYBOT_PDF_READERS": "1",
        },
        database_url="sqlite://",
    )
    assert custom.pdf_limits() == ReadLimits(
        memory_bytes=768 * MB, seconds=12, text_bytes=4 * MB, inflated_bytes=200 * MB, parallel=1
    )
    with pytest.raises(SettingsError, match="POLICYBOT_PDF_MEMORY_MB must be a whole number"):
        Settings.from_env({"POLICYBOT_PDF_MEMORY_MB": "1GB"}, database_url="sqlite://")
    with pytest.raises(SettingsError, match="POLICYBOT_PDF_SECONDS"):
        Settings.from_env({"POLICYBOT_PDF_SECONDS": "0"}, database_url="sqlite://")
