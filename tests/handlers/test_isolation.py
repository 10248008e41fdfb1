"""One workspace never sees or changes another's settings, whatever ids a request carries;
changing a channel needs membership; admin commands need an admin. Refusals change nothing."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import (
    Brief,
    ChannelSettings,
    Goal,
    GoalAssessment,
    ReminderRule,
    Subscription,
)
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from tests.conftest import NOW


def team(name: str, channel: str = "C1", member: bool = True, admin: bool = False) -> Context:
    return Context(
        now=NOW,
        team_id=name,
        channel_id=channel,
        user_id=f"U-{name}",
        is_channel_member=lambda: member,
        is_admin=lambda: admin,
    )


def counts(factory: sessionmaker[Session]) -> dict[str, object]:
    with factory() as session:
        return {
            "subscriptions": session.scalar(select(func.count()).select_from(Subscription)),
            "paused": session.scalar(
                select(func.count())
                .select_from(Subscription)
                .where(Subscription.paused_reason.is_not(None))
            ),
            "rules": session.scalar(select(func.count()).select_from(ReminderRule)),
            "quiet": [(c.team_id, c.quiet_start) for c in session.scalars(select(ChannelSettings))],
            "answers": [(a.team_id, a.status) for a in session.scalars(select(GoalAssessment))],
            "briefs": session.scalar(select(func.count()).select_from(Brief)),
        }


@pytest.fixture
def runner(factory: sessionmaker[Session]) -> CommandRunner:
    return CommandRunner(factory)


@pytest.mark.usefixtures("corpus")
def test_team_b_cannot_see_or_change_team_a(
    runner: CommandRunner, factory: sessionmaker[Session]
) -> None:
    a, b = team("TA"), team("TB")  # same channel id on purpose
    assert "Subscribed s" in runner.run("subscribe storage", a).text
    assert "Reminders on" in runner.run("remind storage", a).text
    assert "Quiet hours set" in runner.run("quiet 20:00-08:00", a).text
    with factory() as session:
        goal = f"g{session.scalar(select(func.min(Goal.id)))}"
    assert "marked met" in runner.run(f"status {goal} met confirm", a).text
    with factory() as session:
        sub_id = session.scalar(select(Subscription.id))
        rule_id = session.scalar(select(ReminderRule.id))
    before = counts(factory)

    listing = runner.run("subscriptions", b)
    assert "no subscriptions" in listing.text and "storage" not in listing.text
    for text in (f"unsubscribe s{sub_id}", f"unsubscribe {sub_id}", f"remind off r{rule_id}"):
        reply = runner.run(text, b)
        assert reply.is_error, text
    assert "no subscriptions to remove" in runner.run("unsubscribe all", b).text
    assert "no reminders" in runner.run("remind off", b).text
    scorecard_b = runner.run("scorecard", b)
    assert "met" not in scorecard_b.text.replace("awaiting", "")  # A's answer is not B's
    # B answering the same goal does not overwrite A's answer.
    runner.run(f"status {goal} missed confirm", b)
    after = counts(factory)
    assert after["subscriptions"] == before["subscriptions"]
    assert after["rules"] == before["rules"]
    assert after["quiet"] == before["quiet"]
    answers_before = cast(list[tuple[str, str]], before["answers"])
    answers_after = cast(list[tuple[str, str]], after["answers"])
    assert sorted(answers_after) == sorted([*answers_before, ("TB", "missed")])


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize(
    "text",
    [
        "subscribe storage",
        "unsubscribe all",
        "remind",
        "remind off",
        "quiet 20:00-08:00",
        "quiet off",
    ],
)
def test_changing_a_channel_needs_membership(
    runner: CommandRunner, factory: sessionmaker[Session], text: str
) -> None:
    runner.run("subscribe storage", team("TA"))
    before = counts(factory)
    reply = runner.run(text, team("TA", member=False))
    assert reply.is_error
    assert "Only members of this channel" in reply.text and "Nothing was changed" in reply.text
    assert counts(factory) == before


@pytest.mark.usefixtures("corpus")
def test_reading_needs_no_membership(runner: CommandRunner) -> None:
    outsider = team("TA", member=False)
    assert not runner.run("storage", outsider).is_error
    assert not runner.run("subscriptions", outsider).is_error
    assert not runner.run("deadlines", outsider).is_error


@pytest.mark.usefixtures("corpus")
def test_forget_needs_an_admin(runner: CommandRunner, factory: sessionmaker[Session]) -> None:
    with factory() as session:
        ref = f"b{session.scalar(select(func.min(Brief.id)))}"
    before = counts(factory)
    refused = runner.run(f"forget {ref}", team("TA", admin=False))
    assert refused.is_error and "Only workspace admins" in refused.text
    assert counts(factory) == before
    asked = runner.run(f"forget {ref}", team("TA", admin=True))
    assert not asked.is_error and asked.text.startswith(f"Forget {ref}")
    assert counts(factory) == before  # only the confirmation removes
    done = runner.run(f"forget {ref} confirm", team("TA", admin=True))
    assert not done.is_error and f"Removed {ref}" in done.text
    assert counts(factory)["briefs"] == before["briefs"] - 1  # type: ignore[operator]
    assert "no brief" in runner.run(f"show {ref}", team("TA")).text.lower()
    assert runner.run("storage", team("TA")).briefs  # the index is still consistent


def test_ids_from_a_request_cannot_reach_other_rows(
    runner: CommandRunner, factory: sessionmaker[Session]
) -> None:
    a = team("TA", channel="CA")
    runner.run("subscribe", a)
    with factory() as session:
        sub_id = session.scalar(select(Subscription.id))
    # Team B in its own channel, naming A's subscription id and even A's channel name.
    for ctx in (team("TB", channel="CA"), team("TB", channel="CB")):
        assert runner.run(f"unsubscribe s{sub_id}", ctx).is_error
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 1
