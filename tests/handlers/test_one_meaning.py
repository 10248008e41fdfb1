"""Queries mean one thing: the same words compile to the same filter in search, a
subscription (and its preview), a reminder rule and `deadlines`, through the real commands
on the demo corpus, on both engines; what a subscription stores means tomorrow what it
meant today."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data import briefs as brief_store
from policybot.data.briefs import BriefFilter
from policybot.data.models import ReminderRule, Subscription
from policybot.data.query.language import parse_query
from policybot.data.query.meaning import meaning_of
from policybot.data.query.understanding import Intent
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.previews import recent_matches
from policybot.handlers.reminders import edit_rule
from policybot.handlers.subscriptions import edit_subscription
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("corpus")
TODAY = NOW.date()

# Phrasings as analysts type them: English and Chinese, with bodies, years, "by", "before",
# "since", "latest", "who", operators and filters. Each reads the same wherever it is typed.
SAME_EVERYWHERE = [
    "targets for 2027",
    "battery targets for 2027",
    "storage goals by 2030",
    "what is due before 2028",
    "targets due by the end of 2030",
    "MIIT's targets for 2027",
    "State Council targets by 2030",
    "what are the deadlines for batteries",
    "deadlines in 2028 for smart factories",
    "lithium battery",
    "what did MIIT publish since October",
    "NDRC since 2024-11-01",
    "published in November 2024",
    "latest from the State Council",
    "the 3 newest MIIT briefs",
    "who issued the storage plan",
    "which ministries regulate batteries",
    "storage body:MIIT due:2027",
    "smart factory -battery",
    "data OR computing",
    '"new materials" big data',
    "BRI",
    "Belt and Road",
    "new energy vehicles",
    "carbon peak",
    "储能 2027年 目标",
    "工信部 最新",
    "2024年以来 国务院",
    "到2030年 电池 目标",
    "谁发布了储能",
    "一带一路",
    "碳达峰",
    "last month",
]
# A year alone is a deadline year only where the command speaks of deadlines: `deadlines
# humanoid 2027` and a reminder rule read `due:2027`, a search and a subscription the word.
DEADLINE_COMMANDS_ONLY = ["humanoid robots 2027", "storage 2028"]


def without_today(where: BriefFilter) -> BriefFilter:
    """A filter without the day it was compiled on: `due:..YEAR` starts today in a typed
    question; a stored meaning is not tied to a day."""
    return replace(where, due_from=None)


@pytest.fixture
def runner(factory: sessionmaker[Session]) -> CommandRunner:
    return CommandRunner(factory)


def run(runner: CommandRunner, text: str) -> None:
    reply = runner.run(text, Context(now=NOW))
    assert "went wrong" not in reply.text, reply.text


def stored(factory: sessionmaker[Session], model: type[Subscription] | type[ReminderRule]) -> str:
    with factory() as session:
        rows = list(session.scalars(select(model.query_text)))
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize("text", SAME_EVERYWHERE + DEADLINE_COMMANDS_ONLY)
def test_search_subscription_preview_reminder_and_deadlines_compile_alike(
    runner: CommandRunner, factory: sessionmaker[Session], text: str
) -> None:
    with factory() as session:
        # As `/policy <text>` reads it (a first word such as "latest" or "deadlines" is
        # its command's, not a search word).
        search = meaning_of(session, text, TODAY, literal_first=False)
        deadlines = meaning_of(session, text, TODAY, Intent.DEADLINES)

    run(runner, f"/policy subscribe {text}")
    subscription_text = stored(factory, Subscription)
    run(runner, f"/policy remind {text}")
    rule_text = stored(factory, ReminderRule)

    with factory() as session:
        subscribed = meaning_of(session, subscription_text, None, stored=True).where
        reminded = meaning_of(session, rule_text, None, stored=True).where
        # The subscription keeps what search understood; the rule what `deadlines` did.
        assert subscribed == without_today(search.where), subscription_text
        assert reminded == without_today(deadlines.where), rule_text
        if text in SAME_EVERYWHERE:
            assert without_today(search.where) == without_today(deadlines.where)
        else:
            assert search.query.due_year is None and deadlines.query.due_year is not None

        # The preview finds, among the briefs new lately, exactly what search's filter does.
        previewed = {b.id for b in recent_matches(session, subscription_text, NOW)}
        searched = set(brief_store.matching_ids(session, without_today(search.where)))
        arrived = set(brief_store.matching_ids(session, BriefFilter()))
        assert previewed == searched & arrived


@pytest.mark.parametrize("text", [t for t in SAME_EVERYWHERE if not t.startswith("latest")])
def test_the_search_command_shows_what_the_filter_finds(
    runner: CommandRunner, factory: sessionmaker[Session], text: str
) -> None:
    with factory() as session:
        search = meaning_of(session, text, TODAY)
        if search.reading.intent is not Intent.SEARCH:
            pytest.skip("answered as a deadline list or the newest briefs")
        expected = [f"b{i}" for i in brief_store.search(session, search.where, 5, load=False).ids]
    reply = runner.run(f"/policy search {text}", Context(now=NOW))
    assert [b.ref for b in reply.briefs] == expected, reply.text


@pytest.mark.parametrize("text", SAME_EVERYWHERE + DEADLINE_COMMANDS_ONLY)
def test_deadlines_lists_only_goals_of_briefs_its_filter_matches(
    runner: CommandRunner, factory: sessionmaker[Session], text: str
) -> None:
    with factory() as session:
        where = meaning_of(session, text, TODAY, Intent.DEADLINES).where
        matching = {f"b{i}" for i in brief_store.matching_ids(session, where)}
    reply = runner.run(f"/policy deadlines {text}", Context(now=NOW))
    assert {d.brief.ref for d in reply.deadlines} <= matching, reply.text


@pytest.mark.parametrize("text", SAME_EVERYWHERE)
def test_a_stored_meaning_does_not_move_with_the_clock(
    factory: sessionmaker[Session], text: str
) -> None:
    """Saved today and read a year later (or by the scheduler, with no day at all), the
    stored text compiles to one filter: "last month" and "since October" were fixed to
    dates when it was saved, and understanding never runs on it again."""
    with factory() as session:
        understood = meaning_of(session, text, TODAY, literal_first=False).query
        saved = understood.describe()
        now = meaning_of(session, saved, None, stored=True).where
        later = meaning_of(session, saved, TODAY + timedelta(days=365), stored=True).where
        assert without_today(later) == now
        # Read back, the saved text is the query understood (nothing lost or added).
        again = parse_query(saved)
        assert replace(again, notes=()) == replace(understood, notes=())


def test_understanding_makes_new_values_and_changes_none(session: Session) -> None:
    parsed = parse_query("what did MIIT publish since October about storage")
    before = replace(parsed)
    meaning = meaning_of(session, "what did MIIT publish since October about storage", TODAY)
    assert parsed == before
    assert meaning.query.bodies == ("MIIT",) and meaning.query.words == ("storage",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        meaning.query.words = ()  # type: ignore[misc]


def test_subscribing_says_how_it_read_the_words(runner: CommandRunner) -> None:
    reply = runner.run("/policy subscribe battery targets for 2027", Context(now=NOW))
    assert "I read this as `battery due:2027`." in reply.notes
    assert "battery due:2027" in reply.text
    reminded = runner.run("/policy remind storage goals by 2030", Context(now=NOW))
    assert "I read this as `storage due:..2030`." in reminded.notes


def test_an_edit_that_keeps_the_words_keeps_what_the_row_stored(
    runner: CommandRunner, factory: sessionmaker[Session]
) -> None:
    """A row saved before queries were stored as understood keeps its text (and so its
    meaning) through an edit whose words are those the form showed; new words are read as
    `subscribe` and `remind` read them."""
    run(runner, "/policy subscribe battery targets for 2027")
    run(runner, "/policy remind storage goals by 2030")
    with factory() as session, session.begin():  # as rows saved before this round read
        sub = session.scalars(select(Subscription)).one()
        rule = session.scalars(select(ReminderRule)).one()
        sub.query_text, rule.query_text = "battery targets for 2027", "storage goals by 2030"
    ctx = Context(now=NOW, team_id="T1", channel_id="C1", user_id="U1")
    with factory() as session, session.begin():
        sub = session.scalars(select(Subscription)).one()
        rule = session.scalars(select(ReminderRule)).one()
        ctx = replace(ctx, team_id=sub.team_id, channel_id=sub.channel_id)
        edit_subscription(session, ctx, sub, "battery  targets for 2027", "daily", False)
        edit_rule(session, ctx, rule, "storage goals by 2030", "", False)
    assert stored(factory, Subscription) == "battery targets for 2027"
    assert stored(factory, ReminderRule) == "storage goals by 2030"
    with factory() as session, session.begin():
        sub = session.scalars(select(Subscription)).one()
        edit_subscription(session, ctx, sub, "battery targets for 2028", "daily", False)
    assert stored(factory, Subscription) == "battery due:2028"
