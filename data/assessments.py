"""A team's answer to "was this target met?": recorded, the current answers, the history."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .backends import backend_for
from .models import Goal, GoalAssessment, GoalAssessmentChange, GoalStatus


def record_answer(
    session: Session,
    team_id: str,
    goal_id: int,
    status: GoalStatus,
    note: str,
    answered_by: str,
    answered_at: datetime,
) -> None:
    """Set the team's answer for the goal and add it to the history. The answer is one
    insert-or-update: two people answering at the same moment (two clicks, a click and a
    `/policy status`) both succeed, the later one being the answer, where a read followed
    by an insert let the second fail on the unique (team, goal) key."""
    answer = {
        "status": status,
        "note": note,
        "answered_by": answered_by,
        "answered_at": answered_at,
    }
    upsert = backend_for(session).insert_or_update(
        GoalAssessment, ["team_id", "goal_id"], list(answer)
    )
    session.execute(upsert.values(team_id=team_id, goal_id=goal_id, **answer))
    session.add(GoalAssessmentChange(team_id=team_id, goal_id=goal_id, **answer))
    session.flush()


def team_answers(session: Session, team_id: str, goal_ids: Collection[int]) -> dict[int, str]:
    """The team's current answer (a GoalStatus value) to each of these goals it answered."""
    if not goal_ids:
        return {}
    rows = session.execute(
        select(GoalAssessment.goal_id, GoalAssessment.status).where(
            GoalAssessment.team_id == team_id, GoalAssessment.goal_id.in_(list(goal_ids))
        )
    )
    return {goal_id: status for goal_id, status in rows}


def answers_on_briefs(
    session: Session, team_id: str, brief_ids: Collection[int]
) -> dict[int, GoalAssessment]:
    """The team's answers to the goals of these briefs, by goal id: the briefs' goals by
    their (brief, position) key, then the answers by their (team, goal) key (a join let
    SQLite walk every answer of the team, looking up each one's goal)."""
    goals = select(Goal.id).where(Goal.brief_id.in_(list(brief_ids)))
    return {
        a.goal_id: a
        for a in session.scalars(
            select(GoalAssessment).where(
                GoalAssessment.team_id == team_id, GoalAssessment.goal_id.in_(goals)
            )
        )
    }


def answer_history(
    session: Session, team_id: str, goal_id: int, *, limit: int
) -> list[GoalAssessmentChange]:
    """The team's latest answers to the goal, newest first."""
    return list(
        session.scalars(
            select(GoalAssessmentChange)
            .where(GoalAssessmentChange.team_id == team_id, GoalAssessmentChange.goal_id == goal_id)
            .order_by(GoalAssessmentChange.answered_at.desc(), GoalAssessmentChange.id.desc())
            .limit(limit)
        )
    )
