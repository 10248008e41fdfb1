"""Team notes: a workspace's notes on a brief are shown in `show` and in its digests, found by
its own searches, and never seen by another workspace. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Brief, TeamNote
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from policybot.scheduler.messages import Digest
from policybot.scheduler.ticker import Ticker
from tests.conftest import NOW
from tests.scheduler.conftest import RecordingPoster, ingest, tracker_issue

TEAM_A = Context(now=NOW, team_id="TA", channel_id="C1", user_id="UA")
TEAM_B = Context(now=NOW, team_id="TB", channel_id="C1", user_id="UB")


@pytest.fixture
def runner(factory: sessionmaker[Session]) -> CommandRunner:
    return CommandRunner(factory)


def _storage_plan(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        brief_id = session.scalar(
            select(Brief.id).where(Brief.title.like("%New Energy Storage Manufacturing%"))
        )
    return f"b{brief_id}"


@pytest.mark.usefixtures("corpus")
def test_a_note_is_shown_in_show_for_its_workspace_only(
    runner: CommandRunner, factory: sessionmaker[Session]
) -> None:
    ref = _storage_plan(factory)
    reply = runner.run(f"note {ref} Ask the ministry about the sodium-ion timeline.", TEAM_A)
    assert not reply.is_error and reply.text.startswith(f"Noted on {ref}")
    mine = render_text(runner.run(f"show {ref}", TEAM_A))
    theirs = render_text(runner.run(f"show {ref}", TEAM_B))
    assert "Team notes" in mine and "UA on 29 Nov 2026: Ask the ministry" in mine
    assert "sodium-ion timeline" not in theirs
    assert "[Add note]" in theirs  # everyone can add their own
    listing = runner.run(f"note {ref}", TEAM_A)
    assert listing.text == f"1 team note on {ref}"


@pytest.mark.usefixtures("corpus")
def test_notes_are_searched_within_the_workspace_only(
    runner: CommandRunner, factory: sessionmaker[Session]
) -> None:
    ref = _storage_plan(factory)
    runner.run(f"note {ref} Zhangjiakou pilot visited in October.", TEAM_A)
    mine = runner.run("zhangjiakou", TEAM_A)
    theirs = runner.run("zhangjiakou", TEAM_B)
    assert any(s.title == "Also in your team's notes" for s in mine.sections)
    assert ref in render_text(mine)
    assert not theirs.sections


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("note", "Which brief?"),
        ("note storage is great", "Which brief?"),
        ("note b999999 hello", "There is no brief"),
        ("note b1 " + "x" * 1001, "up to 1000 characters"),
    ],
)
def test_bad_notes_are_refused_and_write_nothing(
    runner: CommandRunner, factory: sessionmaker[Session], command: str, message: str
) -> None:
    reply = runner.run(command, TEAM_A)
    assert reply.is_error and message in reply.text
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(TeamNote)) == 0


def test_digests_carry_the_workspace_notes(
    factory: sessionmaker[Session], runner: CommandRunner
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    for team in ("TA", "TB"):
        context = Context(now=start, team_id=team, channel_id="C1", user_id=f"U{team}")
        assert not runner.run("subscribe storage instant", context).is_error
    ingest(factory, tracker_issue("Noted Storage Plan"), start + timedelta(minutes=1))
    with factory() as session:
        brief_id = session.scalar(select(Brief.id).where(Brief.title == "Noted Storage Plan"))
    noted = Context(now=start, team_id="TA", channel_id="C1", user_id="UA")
    runner.run(f"note b{brief_id} Check the local subsidy rules.", noted)
    poster = RecordingPoster()
    Ticker(factory, poster, worker_id="notes", max_workers=1).tick(start + timedelta(minutes=2))
    by_team = {team: m for team, _, m in poster.posts if isinstance(m, Digest)}
    (note,) = by_team["TA"].briefs[0].team_notes
    assert (note.author, note.text) == ("UA", "Check the local subsidy rules.")
    assert by_team["TB"].briefs[0].team_notes == ()
