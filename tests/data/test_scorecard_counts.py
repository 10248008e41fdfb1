"""A team's scorecard counts, read from its answers in one statement (data/scorecard.py),
are the counts of a plain walk over every goal, after answers are given (past goals and
goals not yet due, with and without words), changed, and after an answered goal is deleted,
on both engines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from policybot.data.assessments import answers_on_briefs, record_answer
from policybot.data.briefs import BriefFilter, text_matches
from policybot.data.models import Brief, Goal, GoalAssessment, GoalKind, GoalStatus
from policybot.data.query.compiler import build_filter
from policybot.data.query.language import parse_query
from policybot.data.scorecard import ScoreTally, score_tally
from policybot.data.search.engines import engine_for
from policybot.data.search.fields import indexed_fields

WHEN = datetime(2026, 11, 1, tzinfo=UTC)
MET, MISSED, UNCLEAR = GoalStatus.MET, GoalStatus.MISSED, GoalStatus.UNKNOWN


def walked(session: Session, team_id: str, today: date, text: str, first: int) -> ScoreTally:
    """Every policy goal with a deadline, one by one: scored if past or answered by the team,
    counted by its answer (None: none), in all and per body of its brief; the briefs with a
    scored goal, the first `first` of them by their soonest past goal, then by their
    soonest answered one."""
    answers = dict(
        session.execute(
            select(GoalAssessment.goal_id, GoalAssessment.status).where(
                GoalAssessment.team_id == team_id
            )
        ).all()
    )
    where = build_filter(session, parse_query(text))[0] if text else None
    allowed = text_matches(session, where) if where is not None else None
    out = ScoreTally()
    past_first: dict[int, tuple[date, int, int]] = {}
    later_first: dict[int, tuple[date, int, int]] = {}
    for goal in session.scalars(select(Goal).order_by(Goal.id)):
        if goal.due_on is None or goal.kind != GoalKind.POLICY:
            continue
        if allowed is not None and goal.brief_id not in allowed:
            continue
        answer = answers.get(goal.id)
        if answer is None and goal.due_on >= today:
            continue
        status = None if answer is None else str(answer)
        out.totals[status] += 1
        brief = session.get(Brief, goal.brief_id)
        assert brief is not None
        for body in brief.bodies:
            out.per_body.setdefault(body.abbreviation, Counter())[status] += 1
        key = (goal.due_on, goal.id, goal.brief_id)
        firsts = past_first if goal.due_on < today else later_first
        firsts[goal.brief_id] = min(firsts.get(goal.brief_id, key), key)
    out.briefs = len(set(past_first) | set(later_first))
    only_later = [k for b, k in later_first.items() if b not in past_first]
    out.first = (sorted(past_first.values()) + sorted(only_later))[:first] if first else []
    return out


def assert_counts(session: Session, team_id: str, today: date) -> None:
    for text in ("", "energy", "-storage"):
        where = build_filter(session, parse_query(text))[0] if text else BriefFilter()
        for first in (0, 2, 40):
            tally = score_tally(session, team_id, today, where, first=first)
            assert tally == walked(session, team_id, today, text, first), (text, first)


def policy_goals(session: Session) -> list[Goal]:
    return list(
        session.scalars(
            select(Goal)
            .where(Goal.due_on.is_not(None), Goal.kind == GoalKind.POLICY)
            .order_by(Goal.id)
        )
    )


@pytest.mark.usefixtures("corpus")
def test_counts_follow_answers_changes_and_deleted_goals(session: Session) -> None:
    goals = policy_goals(session)
    days = sorted({g.due_on for g in goals if g.due_on is not None})
    today = days[len(days) // 2] + timedelta(days=1)  # goals past and goals not yet due
    past = [g for g in goals if g.due_on is not None and g.due_on < today]
    later = [g for g in goals if g.due_on is not None and g.due_on >= today]
    assert past and later
    assert_counts(session, "T1", today)  # nothing answered: the past goals, awaiting

    # Answers on past goals and on goals not yet due; another team's must not count.
    answered = [*past[::3], *later[::2]]
    statuses = [MET, MISSED, UNCLEAR]
    for n, goal in enumerate(answered):
        record_answer(session, "T1", goal.id, statuses[n % 3], "", "U1", WHEN)
        record_answer(session, "T2", goal.id, MISSED, "", "U2", WHEN)
    tally = score_tally(session, "T1", today, BriefFilter(), first=0)
    assert sum(tally.totals[s] for s in statuses) == len(answered)
    assert_counts(session, "T1", today)

    # Answers changed: the counts move from one answer to the other.
    for goal in answered[::2]:
        record_answer(session, "T1", goal.id, UNCLEAR, "changed", "U1", WHEN)
    changed = score_tally(session, "T1", today, BriefFilter(), first=0)
    assert changed.totals[UNCLEAR] > tally.totals[UNCLEAR]
    assert sum(changed.totals[s] for s in statuses) == len(answered)
    assert_counts(session, "T1", today)

    # An answered goal deleted (as a brief's edit does, which re-indexes the brief): its
    # answer goes with it.
    gone_id, brief_id = answered[1].id, answered[1].brief_id
    assert gone_id in answers_on_briefs(session, "T1", [brief_id])
    brief = session.get(Brief, brief_id)
    assert brief is not None
    brief.goals = [g for g in brief.goals if g.id != gone_id]
    session.flush()
    engine_for(session).index(session, [(brief.id, indexed_fields(brief))])
    assert session.get(Goal, gone_id) is None
    assert gone_id not in answers_on_briefs(session, "T1", [brief_id])
    after = score_tally(session, "T1", today, BriefFilter(), first=0)
    assert sum(after.totals[s] for s in statuses) == len(answered) - 1
    assert_counts(session, "T1", today)


@pytest.mark.usefixtures("corpus")
def test_answers_only_on_goals_not_yet_due_add_their_briefs(session: Session) -> None:
    """A brief whose goals are all still to come is scored once answered, after the briefs
    with a past goal (the first shown), and counted once however many of its goals are
    answered."""
    goals = policy_goals(session)
    first_day = min(g.due_on for g in goals if g.due_on is not None)
    today = first_day + timedelta(days=1)  # few past goals: most briefs only later
    later = [g for g in goals if g.due_on is not None and g.due_on >= today]
    for goal in later[:6]:
        record_answer(session, "T1", goal.id, MET, "", "U1", WHEN)
    assert_counts(session, "T1", today)
    assert_counts(session, "T1", first_day)  # nothing past: only the answered briefs
