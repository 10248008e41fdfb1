"""Goals by deadline: the soonest first in a window, one page and its count, for
`deadlines`, the App Home, exports and reminders."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .briefs import (
    BriefFilter,
    apply_filters,
    has_structured_filters,
    has_text,
    newest_briefs,
    text_matches,
)
from .models import Brief, Goal, GoalKind
from .search import goals as goals_index
from .search.live import SearchView
from .search.ranking import Plan

_LOAD_CHUNK = 500  # ids per IN list (SQLite caps bound parameters)
_GOALS_PER_BRIEF = 3  # above the usual: words matching fewer briefs read goals by brief
_SORTED_DAY = 500  # a day with at most this many goals is sorted whole
_WALK_FACTOR = 4  # ... and one with fewer than this many times the briefs a walk would read
_WALK_BATCH = 200  # briefs per first step of a walk newest first


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
    """One page of `due_goals` and the exact count, read the way the list is ordered:
    the window's goals counted per deadline (the goals' (deadline, kind, brief) index; with
    words, only the goals of the briefs the index matches), then, on the deadlines the page
    falls on, only as many goals as the page needs (see `_day_page`). Only the page's goals
    and briefs are loaded. One goal kind without structured filters (what `deadlines` asks
    most) is read from the search index's deadline fields instead (`_indexed_page`).
    Structured filters (bodies, dates) are the database's: one statement joins the briefs
    and orders the window."""
    kinds = _due_kinds(where, goal_kinds)
    if where is not None and has_structured_filters(where):
        return _filtered_page(session, start, end, where, kinds, limit=limit, offset=offset)
    if len(kinds) == 1:
        try:
            return _indexed_page(session, start, end, where, kinds[0], limit=limit, offset=offset)
        except goals_index.TooManyBuckets:
            pass  # a window of more distinct deadlines than tantivy buckets: the database's
    allowed = text_matches(session, where) if where is not None and has_text(where) else None
    days = _window_days(session, start, end, kinds, allowed)
    total = sum(day.count for day in days)
    if limit <= 0 or offset >= total:
        return DuePage([], total)
    ids: list[int] = []
    skip = offset
    for day in days:
        if skip >= day.count:
            skip -= day.count
            continue
        wanted = min(limit - len(ids), day.count - skip)
        ids += _day_page(session, day, kinds, skip, wanted)
        skip = 0
        if len(ids) >= limit:
            break
    return DuePage(load_due_goals(session, ids), total)


def _indexed_page(
    session: Session,
    start: date,
    end: date,
    where: BriefFilter | None,
    kind: str,
    *,
    limit: int,
    offset: int,
) -> DuePage:
    """`due_goals_page` from the search index (words, no structured filter; one goal kind):
    the matched briefs' goals counted per deadline by an aggregation, then, on each deadline
    the page falls on, the briefs due that day newest first, only as many as the page needs;
    the database gives those briefs' goals of the day (their ids order a brief's goals)."""
    searcher = SearchView(session).searcher
    query = searcher.matching_query(where.plan() if where is not None else Plan(()))
    days = goals_index.day_counts(
        searcher.searcher, query, kind, start.toordinal(), end.toordinal()
    )
    total = sum(count for _day, count in days)
    if limit <= 0 or offset >= total:
        return DuePage([], total)
    ids: list[int] = []
    skip = offset
    for day, count in days:
        if skip >= count:
            skip -= count
            continue
        needed = min(skip + limit - len(ids), count)
        briefs = goals_index.briefs_due_on(searcher.searcher, query, kind, day, needed)
        published = dict(briefs)
        found: list[tuple[tuple[int, int, int], int]] = []
        listed = sorted(published)
        for at in range(0, len(listed), _LOAD_CHUNK):
            for goal_id, brief_id in session.execute(
                select(Goal.id, Goal.brief_id).where(
                    Goal.brief_id.in_(listed[at : at + _LOAD_CHUNK]),
                    Goal.due_on == date.fromordinal(day),
                    Goal.kind == kind,
                )
            ):
                day_published = published[brief_id]
                key = (1, 0, goal_id) if day_published < 0 else (0, -day_published, goal_id)
                found.append((key, goal_id))
        found.sort()
        ids += [goal_id for _key, goal_id in found[skip:needed]]
        skip = 0
        if len(ids) >= limit:
            break
    return DuePage(load_due_goals(session, ids[:limit]), total)


@dataclass
class _Day:
    """The window's goals due on one day: how many, and (with words) which."""

    due_on: date
    count: int
    goals: list[tuple[int, int]] | None = None  # (goal id, brief id); None: every goal


def _window_days(
    session: Session, start: date, end: date, kinds: list[str], allowed: set[int] | None
) -> list[_Day]:
    """The window's deadlines, soonest first, with their goals counted: an aggregate over
    the (deadline, kind, brief) index without words; with words, the matched briefs' goals
    in the window (read from the index's range, or by brief when fewer briefs match than
    the window holds goals)."""
    in_window = (Goal.due_on.between(start, end), Goal.kind.in_(kinds))
    counts = session.execute(
        select(Goal.due_on, func.count()).where(*in_window).group_by(Goal.due_on)
    ).all()
    if allowed is None:
        return [_Day(due_on, count) for due_on, count in sorted(counts) if due_on is not None]
    window = sum(count for _day, count in counts)
    rows: list[tuple[date | None, int, int]] = []
    if len(allowed) * _GOALS_PER_BRIEF < window:
        briefs = sorted(allowed)
        for at in range(0, len(briefs), _LOAD_CHUNK):
            chunk = briefs[at : at + _LOAD_CHUNK]
            rows += session.execute(
                select(Goal.due_on, Goal.id, Goal.brief_id).where(
                    *in_window, Goal.brief_id.in_(chunk)
                )
            )
    elif window:
        every = session.execute(select(Goal.due_on, Goal.id, Goal.brief_id).where(*in_window))
        rows = [(d, g, b) for d, g, b in every if b in allowed]
    by_day: dict[date, list[tuple[int, int]]] = {}
    for due_on, goal_id, brief_id in rows:
        if due_on is not None:
            by_day.setdefault(due_on, []).append((goal_id, brief_id))
    return [_Day(day, len(goals), goals) for day, goals in sorted(by_day.items())]


def _newest_key(published_on: date | None, goal_id: int) -> tuple[int, int, int]:
    """The order of one day's goals: their brief's publication, newest first (undated
    last), then the goal's id."""
    if published_on is None:
        return (1, 0, goal_id)
    return (0, -published_on.toordinal(), goal_id)


def _day_page(session: Session, day: _Day, kinds: list[str], skip: int, wanted: int) -> list[int]:
    """Goals `skip` to `skip + wanted` of one day, in the list's order. A day with few goals
    is sorted whole; a day many briefs share is read by walking the briefs newest first
    until the page is certain (cost ~ the page over the day's share of the briefs)."""
    needed = skip + wanted
    briefs = session.scalar(select(func.max(Brief.id))) or 0
    # Briefs walked to fill the page, beside the goals sorted otherwise.
    walk = needed * briefs / day.count
    if day.count <= _SORTED_DAY or day.count <= _WALK_FACTOR * walk:
        keys = _sorted_day(session, day, kinds)
        return [goal_id for _key, goal_id in sorted(keys)[skip:needed]]
    goals_of: dict[int, list[int]] = {}
    if day.goals is not None:
        for goal_id, brief_id in day.goals:
            goals_of.setdefault(brief_id, []).append(goal_id)
    found: list[tuple[tuple[int, int, int], int]] = []
    for newest in newest_briefs(session, max(_WALK_BATCH, int(2 * walk))):
        if day.goals is None:
            published = dict(newest)
            walked = list(published)
            for at in range(0, len(walked), _LOAD_CHUNK):
                for goal_id, brief_id in session.execute(
                    select(Goal.id, Goal.brief_id).where(
                        Goal.brief_id.in_(walked[at : at + _LOAD_CHUNK]),
                        Goal.due_on == day.due_on,
                        Goal.kind.in_(kinds),
                    )
                ):
                    found.append((_newest_key(published[brief_id], goal_id), goal_id))
        else:
            for brief_id, published_on in newest:
                for goal_id in goals_of.get(brief_id, ()):
                    found.append((_newest_key(published_on, goal_id), goal_id))
        found.sort()
        # Certain once the walk is past the publication day of the last goal needed: a
        # brief not walked yet is no newer than the last one walked.
        if len(found) >= needed and _newest_key(newest[-1][1], 0)[:2] > found[needed - 1][0][:2]:
            break
    return [goal_id for _key, goal_id in found[skip:needed]]


def _sorted_day(session: Session, day: _Day, kinds: list[str]) -> list[tuple[Any, int]]:
    """(order key, goal id) of every goal of the day."""
    if day.goals is None:
        rows = session.execute(
            select(Goal.id, Brief.published_on)
            .join(Brief, Goal.brief_id == Brief.id)
            .where(Goal.due_on == day.due_on, Goal.kind.in_(kinds))
        )
        return [(_newest_key(published_on, goal_id), goal_id) for goal_id, published_on in rows]
    briefs = sorted({brief_id for _goal_id, brief_id in day.goals})
    published: dict[int, date | None] = {}
    for at in range(0, len(briefs), _LOAD_CHUNK):
        chunk = briefs[at : at + _LOAD_CHUNK]
        found = session.execute(select(Brief.id, Brief.published_on).where(Brief.id.in_(chunk)))
        published.update((brief_id, published_on) for brief_id, published_on in found)
    return [
        (_newest_key(published.get(brief_id), goal_id), goal_id)
        for goal_id, brief_id in day.goals
        if brief_id in published
    ]


def _filtered_page(
    session: Session,
    start: date,
    end: date,
    where: BriefFilter,
    kinds: list[str],
    *,
    limit: int,
    offset: int,
) -> DuePage:
    """A page under structured filters: the database joins the briefs, counts and orders;
    with words, the index filters the window's ids (plain integers) first."""
    if has_text(where):
        ids = due_goal_ids(session, start, end, where, goal_kinds=[GoalKind(k) for k in kinds])
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
