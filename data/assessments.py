"""A team's answer to "was this target met?": the current answer and its history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .backends import backend_for
from .models import GoalAssessment, GoalAssessmentChange, GoalStatus


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
