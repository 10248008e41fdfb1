"""Goals by deadline: the soonest first in a window, one page and its count, for
`deadlines`, the App Home, exports and reminders."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from policybot.data.briefs import (
    BriefFilter,
    apply_filters,
    has_structured_filters,
    has_text,
    text_matches,
)
from policybot.data.models import Brief, Goal, GoalKind

_LOAD_CHUNK = 500  # ids per IN list (SQLite caps bound parameters)


@dataclass(frozen=True)
class DueGoal:
    goal: Goal
    brief: Brief


def _due_kinds(where: BriefFilter | None, goal_kinds: Collection[GoalKind] | None) -> list[str]:
    if goal_kinds is None:
        goal_kinds = where.goal_kinds if where is not None else (GoalKind.POLICY,)
    return [str(k) for k in goal_kinds]


def _soonest_first() -> tuple[Any, ...]:
    return (Goal.due_on, Brief.published_on.desc().nulls_last(), Goal.id)


def _due_statement(
    start: date, end: date, where: BriefFilter | None, kinds: list[str], *, ordered: bool = True
) -> Select[int, int, date | None]:
    """Goal id, brief id and deadline of the goals due in [start, end] that pass the
    structured filters (plain columns: the text part is the index's). `ordered=False`: the
    briefs are joined only when a filter reads them, so that counting reads the goals'
    (kind, deadline, brief) index alone (every goal has its brief: a cascading foreign key)."""
    statement: Select[int, int, date | None] = select(Goal.id, Goal.brief_id, Goal.due_on).where(
        Goal.due_on.between(start, end), Goal.kind.in_(kinds)
    )
    if ordered or (where is not None and has_structured_filters(where)):
        statement = statement.join(Brief, Goal.brief_id == Brief.id)
    return apply_filters(statement, where) if where is not None else statement


def due_goal_keys(
    session: Session,
    start: date,
    end: date,
    where: BriefFilter | None = None,
    *,
    goal_kinds: Collection[GoalKind] | None = None,
) -> list[tuple[int, date]]:
    """(goal id, deadline) of the goals `due_goals` returns, in its order, without loading
    any goal."""
    statement = _due_statement(start, end, where, _due_kinds(where, goal_kinds))
    rows = session.execute(statement.order_by(*_soonest_first())).all()
    allowed = text_matches(session, where) if where is not None and has_text(where) else None
    return [
        (goal_id, due_on)
        for goal_id, brief_id, due_on in rows
        if due_on is not None and (allowed is None or brief_id in allowed)
    ]


def due_goal_ids(
    session: Session,
    start: date,
    end: date,
    where: BriefFilter | None = None,
    *,
    goal_kinds: Collection[GoalKind] | None = None,
) -> list[int]:
    """Ids of the goals `due_goals` returns, in its order."""
    return [i for i, _ in due_goal_keys(session, start, end, where, goal_kinds=goal_kinds)]


@dataclass(frozen=True)
class DuePage:
    goals: list[DueGoal]  # the page, soonest first
    total: int  # every goal in the window that matches


def due_goals_page(
    session: Session,
    start: date,
    end: date,
    where: BriefFilter | None = None,
    *,
    limit: int,
    offset: int = 0,
    goal_kinds: Collection[GoalKind] | None = None,
) -> DuePage:
    """One page of `due_goals` and the exact count. Only the page's goals and briefs are
    loaded; without words the database counts and pages, with words the index filters the
    window's ids (plain integers) first."""
    kinds = _due_kinds(where, goal_kinds)
    if has_text(where):
        ids = due_goal_ids(session, start, end, where, goal_kinds=goal_kinds)
        return DuePage(load_due_goals(session, ids[offset : offset + max(limit, 0)]), len(ids))
    statement = _due_statement(start, end, where, kinds)
    counted = _due_statement(start, end, where, kinds, ordered=False)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    if limit <= 0 or offset >= total:
        return DuePage([], total)
    page = session.scalars(
        statement.with_only_columns(Goal.id).order_by(*_soonest_first()).limit(limit).offset(offset)
    )
    return DuePage(load_due_goals(session, list(page)), total)


def load_due_goals(session: Session, goal_ids: Sequence[int]) -> list[DueGoal]:
    """These goals with their briefs, in the order given (each brief's own goals, bodies
    and source come with it in one query per relation, not one per brief)."""
    found: dict[int, DueGoal] = {}
    for at in range(0, len(goal_ids), _LOAD_CHUNK):
        chunk = goal_ids[at : at + _LOAD_CHUNK]
        rows = session.execute(
            select(Goal, Brief).join(Brief, Goal.brief_id == Brief.id).where(Goal.id.in_(chunk))
        )
        found.update((goal.id, DueGoal(goal, brief)) for goal, brief in rows)
    return [found[i] for i in goal_ids if i in found]


def due_goals(
    session: Session,
    start: date,
    end: date,
    where: BriefFilter | None = None,
    *,
    goal_kinds: Collection[GoalKind] | None = None,
) -> list[DueGoal]:
    """Goals with a deadline in [start, end] (a window: when it closes), soonest first.
    Government targets only unless `goal_kinds` (or the filter's) asks for company ones."""
    return load_due_goals(session, due_goal_ids(session, start, end, where, goal_kinds=goal_kinds))
