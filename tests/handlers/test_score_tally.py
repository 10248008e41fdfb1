"""The scorecard's tally, counted in two parts (past goals from the index on goals, the
team's answers beside them), is the tally of one pass over every scored goal, for queries
with and without words and filters and answers both past and not yet due, on both engines."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from policybot.data.briefs import BriefFilter
from policybot.data.models import Goal, GoalAssessment, GoalStatus
from policybot.data.query.compiler import build_filter
from policybot.data.query.language import parse_query
from policybot.data.scorecard import score_tally
from tests.handlers.score_oracle import one_pass_score_tally

# Words that match few briefs and words that match most (counted from the other side).
QUERIES = ["", "energy", "storage", "china", "-zzqx", "body:MIIT", "-body:MIIT", "due:2025"]


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize("answered", [0, 7, 40])
def test_split_tally_is_the_one_pass_tally(session: Session, answered: int) -> None:
    goals = list(session.scalars(select(Goal).where(Goal.due_on.is_not(None)).order_by(Goal.id)))
    rng = random.Random(answered)
    # Answers both past and not yet due, and another team's, which must not count.
    for goal in rng.sample(goals, min(answered, len(goals))):
        for team in ("T1", "T2"):
            session.add(
                GoalAssessment(
                    team_id=team,
                    goal_id=goal.id,
                    status=rng.choice(list(GoalStatus)[1:]),
                    note="",
                    answered_by="U1",
                    answered_at=datetime(2026, 11, 1, tzinfo=UTC),
                )
            )
    session.flush()
    due = sorted(g.due_on for g in goals if g.due_on)
    # Days on which some goals are past and others not yet due (answered or not).
    days = [due[len(due) // 3] + timedelta(days=1), due[len(due) // 2], due[-1]]
    for today in days:
        for text in QUERIES:
            where = build_filter(session, parse_query(text))[0] if text else BriefFilter()
            for first in (0, 3, 15):
                split = score_tally(session, "T1", today, where, first=first)
                one_pass = one_pass_score_tally(session, "T1", today, where, first=first)
                assert split == one_pass, (today, text, first)
