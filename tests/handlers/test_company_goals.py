"""Government targets by default, companies' own commitments on request (`kind:company`),
in deadlines, reminders and the scorecard; `show` names the comment's author and the
tracker issue a brief came from. On the demo corpus (Airbus "by 2026" is a company plan)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Brief
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from policybot.scheduler.messages import AlertBatch, Digest
from policybot.scheduler.ticker import Ticker
from tests.conftest import NOW
from tests.scheduler.conftest import RecordingPoster

CONTEXT = Context(now=NOW, team_id="T1", channel_id="C1", user_id="U1")
AIRBUS = "Airbus announced it will open a second A320 assembly line"


@pytest.fixture
def runner(factory: sessionmaker[Session]) -> CommandRunner:
    return CommandRunner(factory)


@pytest.mark.usefixtures("corpus")
def test_deadlines_list_policy_targets_unless_asked_for_companies(runner: CommandRunner) -> None:
    policy = render_text(runner.run("deadlines within 5y", CONTEXT))
    company = runner.run("deadlines within 5y kind:company", CONTEXT)
    assert AIRBUS not in policy
    assert any(AIRBUS in d.goal.text for d in company.deadlines)
    assert all("Airbus" in d.goal.text or "Volkswagen" in d.goal.text for d in company.deadlines)
    assert "kind:company" in company.text


@pytest.mark.usefixtures("corpus")
def test_reminders_follow_policy_targets_unless_the_rule_says_company(
    factory: sessionmaker[Session], runner: CommandRunner
) -> None:
    assert not runner.run("remind tz UTC", CONTEXT).is_error
    other = Context(now=NOW, team_id="T1", channel_id="C2", user_id="U1")
    assert not runner.run("remind kind:company tz UTC", other).is_error
    poster = RecordingPoster()
    Ticker(factory, poster, worker_id="kinds", max_workers=1).tick(
        datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 30 days before Airbus's "by 2026"
    )
    alerted = {
        channel: [a.goal.text for a in message.alerts]
        for _, channel, message in poster.posts
        if isinstance(message, AlertBatch | Digest)
    }
    assert not any(AIRBUS in text for text in alerted.get("C1", []))
    assert any(AIRBUS in text for text in alerted["C2"])


@pytest.mark.usefixtures("corpus")
def test_scorecard_scores_policy_targets_unless_asked(runner: CommandRunner) -> None:
    later = Context(now=datetime(2027, 2, 1, tzinfo=UTC), team_id="T1", channel_id="C1")
    policy = render_text(runner.run("scorecard", later))
    company = render_text(runner.run("scorecard kind:company", later))
    assert "Airbus" not in policy
    assert "Airbus" in company


@pytest.mark.usefixtures("corpus")
def test_a_search_says_where_kind_company_applies(runner: CommandRunner) -> None:
    reply = runner.run("airbus kind:company", CONTEXT)
    assert reply.is_error and "/policy deadlines" in reply.text


@pytest.mark.usefixtures("corpus")
def test_show_names_the_comment_author_and_the_tracker_issue(
    runner: CommandRunner, factory: sessionmaker[Session]
) -> None:
    with factory() as session:
        brief_id = session.scalar(
            select(Brief.id).where(Brief.title.like("%New Materials Big Data Center%"))
        )
    text = render_text(runner.run(f"show b{brief_id}", CONTEXT))
    assert "MERICS comment:" in text
    assert "From: China Industrial Policy Tracker, Nov 2024" in text
