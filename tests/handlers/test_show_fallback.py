"""`show me ...` is a question: it is searched, and said so; a bad id is still refused."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from tests.conftest import NOW


@pytest.mark.usefixtures("corpus")
def test_show_me_words_searches_them(factory: sessionmaker[Session]) -> None:
    reply = CommandRunner(factory).run("show me storage", Context(now=NOW))
    assert not reply.is_error
    assert reply.briefs and "I searched for your words" in reply.notes[0]


@pytest.mark.usefixtures("corpus")
def test_a_bad_id_is_refused_with_the_way_to_search(factory: sessionmaker[Session]) -> None:
    reply = CommandRunner(factory).run("show zzz", Context(now=NOW))
    assert reply.is_error and "to search, `/policy <words>`" in reply.text
