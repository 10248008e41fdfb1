"""Tracker files uploaded in Slack, end to end: a signed `file_shared` event, files.info and
the download from the fake Slack, the preview message, signed Ingest / Cancel clicks; and the
pending-intake steps on both engines."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.bot.add_brief import SHORTCUT_ADD_MESSAGE
from policybot.bot.intake import (
    ACTION_CANCEL,
    ACTION_INGEST,
    ACTION_INGEST_ARCHIVE,
    ACTION_INGEST_NEW,
    ACTION_REPLACE,
    trusted_url,
)
from policybot.bot.services import Services
from policybot.bot.settings import BOT_SCOPES, Settings, SettingsError
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.errors import UserError
from policybot.data.ingest.text import ParseError
from policybot.data.models import Brief, IntakeStatus, PendingIntake
from policybot.handlers.context import Context
from policybot.handlers.intake import decide_intake, preview_lines, stage_upload
from policybot.handlers.permissions import PermissionDenied
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, LiveServer
from tests.bot.test_blocks import texts
from tests.bot.test_http import post, wait_for
from tests.conftest import NOW
from tests.data.tracker_pdf import tracker_pdf
from tests.fakeslack import FakeSlack, RecordedCall
from tests.scheduler.conftest import tracker_issue

INTAKE_CHANNEL = "C300"
ADMIN, OTHER = "U100", "U200"


@pytest.fixture
def settings(tmp_path: Path, fake: FakeSlack) -> Settings:
    return Settings.from_env(
        {"POLICYBOT_INTAKE_CHANNELS": INTAKE_CHANNEL},
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
    )


@pytest.fixture(autouse=True)
def people(fake: FakeSlack) -> None:
    fake.set_user(ADMIN, is_admin=True, name="analyst")
    fake.set_user(OTHER, is_admin=False, name="intern")


def file_event(
    live: LiveServer, file_id: str, channel: str, event_id: str, user: str = ADMIN
) -> None:
    body = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A100",
        "event": {
            "type": "file_shared",
            "file_id": file_id,
            "file": {"id": file_id},
            "user_id": user,
            "channel_id": channel,
            "event_ts": "1700000000.000500",
        },
        "event_id": event_id,
        "event_time": 1_700_000_000,
    }
    status, _ = post(f"{live.url}/slack/events", json.dumps(body), content_type="application/json")
    assert status == 200


def click_body(fake: FakeSlack, preview: dict[str, Any], label: str, user: str, key: str) -> str:
    """The signed form of pressing `label` on the preview as `user`."""
    blocks = preview["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    button = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    )
    assert (
        button["action_id"]
        == {
            "Ingest": ACTION_INGEST,
            "Cancel": ACTION_CANCEL,
            "Ingest as new": ACTION_INGEST_NEW,
            "Ingest as archive": ACTION_INGEST_ARCHIVE,
            "Replace": ACTION_REPLACE,
        }[label]
    )
    body = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "policy"},
        "user": {"id": user, "name": "analyst" if user == ADMIN else "intern", "team_id": "T1"},
        "api_app_id": "A100",
        "token": "x",
        "container": {"type": "message", "message_ts": "1700000000.000900", "channel_id": "D1"},
        "trigger_id": "1.2.3",
        "channel": {"id": preview["channel"], "name": "directmessage"},
        "message": {"ts": "1700000000.000900", "text": preview["text"], "blocks": blocks},
        "response_url": fake.response_url(key),
        "actions": [{**button, "block_id": "intake", "action_ts": "1700000001.000200"}],
    }
    return urlencode({"payload": json.dumps(body)})


def answer(live: LiveServer, fake: FakeSlack, form: str, key: str) -> dict[str, Any]:
    status, _ = post(f"{live.url}/slack/events", form)
    assert status == 200
    path = f"/response/{key}"
    call = fake.wait_for_call(lambda c: c.path == path, timeout=10)
    assert call is not None, [c.method for c in fake.calls]
    return call.params


def briefs(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(Brief)) or 0


def previews(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.posted_messages(channel) if "would add" in m.get("text", "")]


def is_download(call: RecordedCall) -> bool:
    return call.method == "file_download"


def test_a_pdf_in_a_dm_is_previewed_and_ingest_writes_it_once(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    issue = tracker_issue("Intake Alpha Plan", "Intake Beta Plan")
    fake.add_file(
        "F1",
        "tracker-dec.pdf",
        tracker_pdf(issue.decode()),
        mimetype="application/pdf",
        filetype="pdf",
    )
    before = briefs(services)

    file_event(live, "F1", "D1", "Ev1")
    assert wait_for(lambda: previews(fake, "D1"), timeout=10), [c.method for c in fake.calls]
    preview = previews(fake, "D1")[0]
    shown = texts(preview)
    assert "tracker-dec.pdf: would add 2 (2 new), update 0, leave 0 unchanged" in preview["text"]
    assert "Intake Alpha Plan" in shown and "Intake Beta Plan" in shown
    # Fetched as Slack documents: files.info, then url_private with the bot token.
    methods = [c.method for c in fake.calls if c.method in ("files.info", "file_download")]
    assert methods == ["files.info", "file_download"]
    download = fake.calls_to("file_download")[0]
    assert download.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert briefs(services) == before  # nothing is written before Ingest

    # Slack replays the event (no ack seen): the file is read again, no second preview.
    file_event(live, "F1", "D1", "Ev1")
    assert fake.wait_for_call(lambda c: is_download(c) and c is not download, 10) is not None

    refused = answer(live, fake, click_body(fake, preview, "Ingest", OTHER, "intern"), "intern")
    assert refused["response_type"] == "ephemeral" and refused["replace_original"] is False
    assert "Only workspace admins" in refused["text"] and "Nothing was changed" in refused["text"]
    assert briefs(services) == before

    form = click_body(fake, preview, "Ingest", ADMIN, "first")
    done = answer(live, fake, form, "first")
    assert done["replace_original"] is True
    assert "Ingested tracker-dec.pdf (by analyst): added 2 (2 new), updated 0" in done["text"]
    assert not [b for b in done["blocks"] if b["type"] == "actions"]  # the buttons are gone
    assert briefs(services) == before + 2

    # The same click again, and the very same request replayed: nothing more is written.
    again = answer(live, fake, click_body(fake, preview, "Ingest", ADMIN, "again"), "again")
    assert again["response_type"] == "ephemeral" and "Already done" in again["text"]
    replayed = answer(live, fake, form, "first")
    assert replayed is not None
    cancel = answer(live, fake, click_body(fake, preview, "Cancel", ADMIN, "late"), "late")
    assert "Already done" in cancel["text"]
    assert briefs(services) == before + 2
    assert len(fake.calls_to("file_download")) == 2
    assert len(previews(fake, "D1")) == 1
    with services.sessions() as session:
        intake = session.scalars(select(PendingIntake)).one()
        assert (intake.status, intake.decided_by, intake.content) == (
            IntakeStatus.INGESTED,
            ADMIN,
            b"",
        )


def _labels(preview: dict[str, Any]) -> list[str]:
    blocks = preview["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def _stored_dates(services: Services) -> tuple[object, list[object]]:
    with services.sessions() as session:
        brief = session.scalars(
            select(Brief).where(Brief.title == "Implementation Plan for Humanoid Robots")
        ).one()
        return brief.published_on, [g.due_on for g in brief.goals]


def test_a_back_issue_as_news_then_a_degraded_copy_kept_then_replaced(
    live: LiveServer, services: Services, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Dec 2024 PDF uploaded in Nov 2026 is a back issue: previewed as archive, with
    "Ingest as new" to say otherwise. A degraded copy (its lost characters beyond repair)
    shows what it would remove: Ingest keeps those facts, Replace removes them."""
    from tests.data.test_ingest_degraded import DEGRADED, GOOD, without_second_extractor

    fake.add_file("F7", "robots.pdf", GOOD, mimetype="application/pdf", filetype="pdf")
    file_event(live, "F7", "D1", "Ev7")
    assert wait_for(lambda: previews(fake, "D1"), timeout=10)
    preview = previews(fake, "D1")[-1]
    assert "would add 1 (1 archive: not posted)" in preview["text"]
    assert _labels(preview) == ["Ingest", "Ingest as new", "Cancel"]
    done = answer(live, fake, click_body(fake, preview, "Ingest as new", ADMIN, "n"), "n")
    assert "added 1 (1 new)" in done["text"]
    stored = _stored_dates(services)

    without_second_extractor(monkeypatch)  # no second reading helps
    for file_id, event, key in (("F8", "Ev8", "k"), ("F9", "Ev9", "r")):
        shown_before = len(previews(fake, "D1"))
        fake.add_file(file_id, "robots-copy.pdf", DEGRADED, mimetype="application/pdf")
        file_event(live, file_id, "D1", event)
        assert wait_for(lambda n=shown_before: len(previews(fake, "D1")) > n, timeout=10)
        preview = previews(fake, "D1")[-1]
        shown = texts(preview)
        assert "Stored facts this file lacks, kept" in shown
        assert "its date (10 Dec 2024)" in shown and "by end of 2027" in shown
        assert "Replace" in _labels(preview)
        label = "Ingest" if key == "k" else "Replace"
        done = answer(live, fake, click_body(fake, preview, label, ADMIN, key), key)
        if key == "k":
            assert "Kept 2 stored fact(s) the file lacks" in done["text"]
            assert _stored_dates(services) == stored  # nothing lost
        else:
            assert "Removed as asked" in done["text"]
            assert _stored_dates(services) == (None, [None, *stored[1][1:]])


def test_cancel_writes_nothing_and_ingest_after_it_is_refused(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.add_file("F2", "notes.txt", tracker_issue("Intake Gamma Plan"), channel=INTAKE_CHANNEL)
    before = briefs(services)
    file_event(live, "F2", INTAKE_CHANNEL, "Ev2", user=OTHER)
    assert wait_for(lambda: previews(fake, INTAKE_CHANNEL), timeout=10)
    preview = previews(fake, INTAKE_CHANNEL)[0]
    assert preview["thread_ts"] == "1700000000.000500"  # answered in the upload's thread

    cancelled = answer(live, fake, click_body(fake, preview, "Cancel", OTHER, "c"), "c")
    assert cancelled["replace_original"] is True
    assert "notes.txt was cancelled by intern" in cancelled["text"]
    late = answer(live, fake, click_body(fake, preview, "Ingest", ADMIN, "i"), "i")
    assert "cancelled by intern" in late["text"] and "nothing was written" in late["text"]
    assert briefs(services) == before


def refusal_text(fake: FakeSlack, channel: str) -> str:
    def found() -> list[RecordedCall]:
        return [
            c
            for c in fake.calls
            if c.method in ("chat.postMessage", "chat.postEphemeral")
            and c.params.get("channel") == channel
        ]

    assert wait_for(found, timeout=10), [c.method for c in fake.calls]
    return str(found()[0].params["text"])


def test_oversized_and_non_tracker_files_are_refused_before_downloading(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    before = briefs(services)
    fake.add_file(
        "F3",
        "huge.pdf",
        b"%PDF-1.4 tiny",
        mimetype="application/pdf",
        filetype="pdf",
        size=40 * 1024 * 1024,
    )
    file_event(live, "F3", "D3", "Ev3")
    assert "huge.pdf is 40.0 MB; I take tracker files up to 25.0 MB" in refusal_text(fake, "D3")

    fake.add_file("F4", "chart.png", b"\x89PNG\r\n", mimetype="image/png", filetype="png")
    file_event(live, "F4", "D4", "Ev4")
    assert "chart.png is a PNG, not a tracker issue" in refusal_text(fake, "D4")

    fake.add_file("F5", "lunch.txt", b"Pizza on Friday.\nBring a friend.\n")
    file_event(live, "F5", "D5", "Ev5")
    assert "I can't ingest lunch.txt: no briefs found" in refusal_text(fake, "D5")
    assert [c.params["file"] for c in fake.calls_to("files.info")] == ["F3", "F4", "F5"]
    assert [c.path.split("/")[2] for c in fake.calls_to("file_download")] == ["F5"]

    # A file in a channel that is not set up for intake is none of the bot's business.
    fake.add_file("F6", "other.txt", tracker_issue("Intake Delta Plan"))
    file_event(live, "F6", "C999", "Ev6")
    file_event(live, "F5", "D5", "Ev7", user="UBOT")  # the bot's own upload
    assert (
        fake.wait_for_call(lambda c: c.method == "files.info" and c.params["file"] == "F6", 0.5)
        is None
    )
    assert briefs(services) == before
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PendingIntake)) == 0


def test_the_token_goes_only_to_slack_file_hosts() -> None:
    api = "https://slack.com/api/"
    assert trusted_url("https://files.slack.com/files-pri/T1-F1/x.pdf", api)
    assert not trusted_url("http://files.slack.com/files-pri/T1-F1/x.pdf", api)
    assert not trusted_url("https://evil.example/files.slack.com/x.pdf", api)
    assert trusted_url("http://127.0.0.1:5000/files/F1/x.pdf", "http://127.0.0.1:5000/api/")
    assert not trusted_url("http://127.0.0.1:5001/files/F1/x.pdf", "http://127.0.0.1:5000/api/")


# ---------------------------------------------------------------- the steps, on both engines


def admin(user: str = ADMIN, allowed: bool = True) -> Context:
    return Context(now=NOW, team_id="T1", channel_id="D1", user_id=user, is_admin=lambda: allowed)


def count(factory: sessionmaker[Session], model: type[Brief] | type[PendingIntake]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_stage_then_decide_writes_once_and_only_for_admins(
    factory: sessionmaker[Session],
) -> None:
    raw = tracker_issue("Staged Plan One", "Staged Plan Two")
    staged = stage_upload(factory, admin(), file_id="F1", filename="issue.txt", raw=raw)
    assert staged.token and not staged.repeat
    assert staged.reply.text == "issue.txt: would add 2 (2 new), update 0, leave 0 unchanged"
    assert count(factory, Brief) == 0
    again = stage_upload(factory, admin(), file_id="F1", filename="issue.txt", raw=raw)
    assert (again.token, again.repeat) == (staged.token, True)
    assert count(factory, PendingIntake) == 1

    with pytest.raises(PermissionDenied):
        decide_intake(factory, admin(OTHER, allowed=False), staged.token, ingest=True)
    with pytest.raises(PermissionDenied):  # someone else's upload: admins only
        decide_intake(factory, admin(OTHER, allowed=False), staged.token, ingest=False)
    assert count(factory, Brief) == 0

    first = decide_intake(factory, admin(), staged.token, ingest=True)
    assert first.decided and "added 2" in first.reply.text
    second = decide_intake(factory, admin(), staged.token, ingest=True)
    assert not second.decided and "Already done" in second.reply.text
    assert count(factory, Brief) == 2

    # The same file once more: nothing new, so nothing to decide.
    repeat = stage_upload(factory, admin(), file_id="F9", filename="issue.txt", raw=raw)
    assert repeat.token is None and "leave 2 unchanged (already ingested)" in repeat.reply.text
    with pytest.raises(UserError):
        decide_intake(factory, admin(), "no-such-token", ingest=True)


def test_a_preview_expires_and_a_bad_file_keeps_nothing(factory: sessionmaker[Session]) -> None:
    with pytest.raises(ParseError):
        stage_upload(factory, admin(), file_id="F1", filename="x.txt", raw=b"\x00\x01binary")
    assert count(factory, PendingIntake) == 0
    staged = stage_upload(
        factory, admin(), file_id="F2", filename="i.txt", raw=tracker_issue("Expiring Plan")
    )
    assert staged.token
    later = Context(now=NOW.replace(year=NOW.year + 1), team_id="T1", user_id=ADMIN)
    late = decide_intake(factory, later, staged.token, ingest=True)
    assert not late.decided and late.reply.is_error and "expired" in late.reply.text
    assert count(factory, Brief) == 0


def test_the_preview_is_the_dry_run_preview(factory: sessionmaker[Session]) -> None:
    from policybot.data.ingest.preview import preview_bytes

    raw = tracker_issue("Dry Run Plan")
    with factory() as session:
        lines = preview_lines(preview_bytes(session, raw, "d.txt", NOW))
    assert lines[0] == "d.txt: would add 1 (1 new), update 0, leave 0 unchanged"
    assert lines[1].split() == ["add", "policy", "Dry", "Run", "Plan"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database two engines share, with real commits (not the rolled-back fixture)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("fresh_postgres_url"))
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_two_replicas_clicking_at_once_write_once(shared_url: str) -> None:
    """Two engines (two replicas) take the same click at the same moment: one writes."""
    engines = [make_engine(shared_url) for _ in range(2)]
    try:
        factories = [session_factory(e) for e in engines]
        staged = stage_upload(
            factories[0],
            admin(),
            file_id="F1",
            filename="race.txt",
            raw=tracker_issue("Race Plan A", "Race Plan B"),
        )
        assert staged.token
        token = staged.token
        start = threading.Barrier(2)
        results: list[bool] = []

        def click(factory: sessionmaker[Session]) -> None:
            start.wait()
            results.append(decide_intake(factory, admin(), token, ingest=True).decided)

        threads = [threading.Thread(target=click, args=(f,)) for f in factories]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(results) == [False, True]
        assert count(factories[1], Brief) == 2
    finally:
        for engine in engines:
            engine.dispose()


def test_intake_channels_are_channel_ids() -> None:
    settings = Settings.from_env({"POLICYBOT_INTAKE_CHANNELS": "C0123ABCD, G0456EFGH"})
    assert settings.intake_channels == ("C0123ABCD", "G0456EFGH")
    with pytest.raises(SettingsError, match="POLICYBOT_INTAKE_CHANNELS"):
        Settings.from_env({"POLICYBOT_INTAKE_CHANNELS": "#policy-intake"})


def test_the_manifest_asks_for_what_intake_uses() -> None:
    manifest = (Path(__file__).resolve().parents[2] / "slack" / "manifest.yml").read_text()
    assert "      - files:read " in manifest and "files:read" in BOT_SCOPES
    assert "      - file_shared " in manifest
    assert f"callback_id: {SHORTCUT_ADD_MESSAGE}" in manifest and "type: message" in manifest
    assert "message_menu_options_url:" in manifest  # the bodies field's completion
    assert "messages_tab_read_only_enabled: false" in manifest  # files can be sent in a DM
