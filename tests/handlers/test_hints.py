"""Hints on an empty answer say what their button does, name bodies as bodies, never lead
to a page of partial matches, and say something useful when fewer words cannot help."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.replies import Reply
from tests.conftest import NOW


@pytest.fixture
def ask(factory: sessionmaker[Session]) -> CommandRunner:
    return CommandRunner(factory)


def _run(runner: CommandRunner, text: str) -> Reply:
    return runner.run(text, Context(now=NOW))


@pytest.mark.usefixtures("corpus")
def test_did_you_mean_names_the_query_its_button_runs(ask: CommandRunner) -> None:
    reply = _run(ask, "lithum batery")
    assert "Did you mean: `lithium battery`?" in reply.notes
    assert reply.buttons[0].command == "search lithium battery"
    assert _run(ask, reply.buttons[0].command).briefs


@pytest.mark.usefixtures("corpus")
def test_a_misspelt_body_is_suggested_by_its_name(ask: CommandRunner) -> None:
    reply = _run(ask, "NRDC")
    assert "Did you mean: `NDRC`?" in reply.notes


@pytest.mark.usefixtures("corpus")
def test_suggestions_lead_to_briefs_with_every_word(ask: CommandRunner) -> None:
    reply = _run(ask, "smrt factry")
    assert [b.command for b in reply.buttons] == ["search smart factory"]
    followed = _run(ask, reply.buttons[0].command)
    assert followed.briefs and not followed.text.startswith("No brief has all of")


@pytest.mark.usefixtures("corpus")
def test_one_unknown_word_gets_advice_that_can_help(ask: CommandRunner) -> None:
    reply = _run(ask, "hydrogen")
    assert any("No brief mentions `hydrogen` yet" in note for note in reply.notes)
    assert not any("Try fewer words" in note for note in reply.notes)


@pytest.mark.usefixtures("corpus")
def test_words_that_match_without_the_filters_are_offered(ask: CommandRunner) -> None:
    reply = _run(ask, "NDRC storage")
    assert "Briefs match `storage`, but none with your filters." in reply.notes
    assert reply.buttons[-1].command == "search storage"


@pytest.mark.usefixtures("corpus")
def test_an_empty_date_window_names_the_newest_match_without_it(ask: CommandRunner) -> None:
    reply = _run(ask, "body:MIIT since:2026-11-01")
    note = next(n for n in reply.notes if n.startswith("Nothing in those dates"))
    assert "briefs match, the newest b" in note and "Nov 2024" in note
    assert reply.buttons[-1].command.startswith("show b")
