"""A team's scorecard: the goals whose deadline passed or that the team answered,
counted by answer, by issuing body and by brief, without loading the goals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, any_, case, func, literal, select, true, union_all
from sqlalchemy.orm import Session, aliased

from .briefs import (
    BriefFilter,
    apply_filters,
    has_structured_filters,
    has_text,
    text_matches,
)
from .models import Brief, Goal, GoalAssessment, GoalKind, IssuingBody, brief_bodies
from .search import goals as goals_index
from .search.live import SearchView

_LOAD_CHUNK = 500  # ids per IN list (SQLite caps bound parameters)


@dataclass
class ScoreTally:
    """What a team's scorecard counts: goals whose deadline passed or that the team
    answered, by the team's answer (None: not answered)."""

    totals: Counter[str | None] = field(default_factory=Counter)
    per_body: dict[str, Counter[str | None]] = field(default_factory=dict)
    briefs: int = 0  # briefs with a scored goal
    # (first scored goal's deadline, its id, brief id) of the earliest briefs, soonest first
    first: list[tuple[date, int, int]] = field(default_factory=list)


def score_tally(
    session: Session, team_id: str, today: date, where: BriefFilter, *, first: int
) -> ScoreTally:
    """Counted without loading goals: from the search index's deadline fields (words, no
    structured filter, one goal kind: data/search/goals.py), else by the database, one pass
    per count over the scored goals (words narrow them to the index's matches)."""
    if not has_structured_filters(where) and len(where.goal_kinds) == 1:
        try:
            return _indexed_score_tally(session, team_id, today, where, first=first)
        except goals_index.TooManyBuckets:
            pass  # the database's count below
    allowed = text_matches(session, where) if has_text(where) else None
    return _split_score_tally(session, team_id, today, where, allowed, first=first)


# Parts of one statement over the team's answers (see _answered).
_EACH, _BODIES = 0, 1
# An answered goal: past its deadline; not yet due on a brief with a past goal; not yet due
# on a brief without one (the brief is scored only because it was answered).
_PAST, _LATER, _ONLY_LATER = 1, 2, 0


@dataclass
class _Answered:
    """The team's answers on goals of one kind with a deadline, as the tally reads them."""

    each: list[tuple[int, int, str, int]]  # (brief id, goal id, status, _PAST/_LATER/...)
    per_body: Counter[tuple[int, str, bool]]  # (body id, status, past) -> answers


def _answered(
    session: Session, team_id: str, kind: str, today: date, *, by_body: bool
) -> _Answered:
    """The team's answers read in one statement (one round trip), plain columns, the
    comparisons with today made by the database: each answer as (brief, goal, status,
    state), and after them (`by_body`) the answers counted per body of their brief. The
    state says whether the goal is past, and if not whether its brief has a past goal of
    the kind (the goals' (brief, position) key finds a brief's goals)."""
    by_key: ColumnElement[bool] = true()  # SQLite: the answers by team, their goals by key
    if session.get_bind().dialect.name == "postgresql":
        # The goals by their key from the team's answers as an array: joined or as an IN
        # list, PostgreSQL hashed the answers and read every goal (3x the CPU, in workers).
        answered = select(GoalAssessment.goal_id).where(GoalAssessment.team_id == team_id)
        by_key = Goal.id == any_(func.array(answered.scalar_subquery()))
    other = aliased(Goal)
    has_past = (
        select(other.id)
        .where(other.brief_id == Goal.brief_id, other.kind == kind, other.due_on < today)
        .exists()
    )
    state = case((Goal.due_on < today, _PAST), (has_past, _LATER), else_=_ONLY_LATER)
    # Read once (a common table expression used twice is materialised): each answer, and
    # the same rows counted per body.
    answers = (
        select(Goal.brief_id, Goal.id, GoalAssessment.status, state.label("state"))
        .select_from(GoalAssessment)
        .join(Goal, Goal.id == GoalAssessment.goal_id)
        .where(
            GoalAssessment.team_id == team_id,
            by_key,
            Goal.kind == kind,
            Goal.due_on.is_not(None),
        )
        .cte("answers")
    )
    statement: Select[Any] = select(
        literal(_EACH), answers.c.brief_id, answers.c.id, answers.c.status, answers.c.state
    )
    if by_body:
        bodies = (
            select(
                literal(_BODIES),
                brief_bodies.c.body_id,
                func.count(),
                answers.c.status,
                answers.c.state,
            )
            .join(brief_bodies, brief_bodies.c.brief_id == answers.c.brief_id)
            .group_by(brief_bodies.c.body_id, answers.c.status, answers.c.state)
        )
        statement = select(union_all(statement, bodies).subquery())
    out = _Answered([], Counter())
    for part, key, value, status, flag in session.connection().execute(statement).all():
        if part == _EACH:
            out.each.append((key, value, status, flag))
        else:
            out.per_body[(key, status, flag == _PAST)] += value
    return out


def _bodies_of(session: Session, brief_ids: Collection[int]) -> dict[int, list[int]]:
    """The body ids of these briefs."""
    found: dict[int, list[int]] = {}
    listed = sorted(brief_ids)
    for at in range(0, len(listed), _LOAD_CHUNK):
        for brief_id, body_id in session.connection().execute(
            select(brief_bodies.c.brief_id, brief_bodies.c.body_id).where(
                brief_bodies.c.brief_id.in_(listed[at : at + _LOAD_CHUNK])
            )
        ):
            found.setdefault(brief_id, []).append(body_id)
    return found


def _body_names(session: Session, body_ids: Collection[int]) -> dict[int, str]:
    """The abbreviations of these bodies."""
    if not body_ids:
        return {}
    rows = session.execute(
        select(IssuingBody.id, IssuingBody.abbreviation).where(IssuingBody.id.in_(sorted(body_ids)))
    )
    return {body_id: abbreviation for body_id, abbreviation in rows}


def _indexed_score_tally(
    session: Session, team_id: str, today: date, where: BriefFilter, *, first: int
) -> ScoreTally:
    """`score_tally` from the search index (words, no structured filter; one goal kind): the
    past goals of the briefs the words match are counted there, in all and per body, and
    their earliest briefs found there; the team's answers (one statement, counted per body
    by the database unless words narrow them) then say how many of those are answered, and
    add the answered goals not yet due."""
    kind = str(where.goal_kinds[0])
    searcher = SearchView(session).searcher
    query = searcher.matching_query(where.plan())
    tantivy_searcher = searcher.searcher
    before = today.toordinal()
    past = goals_index.past_goals(tantivy_searcher, query, kind, before, by_body=True)
    words = has_text(where)
    answered = _answered(session, team_id, kind, today, by_body=not words)
    each = answered.each
    per_body = answered.per_body
    if words:
        # The answers on the briefs the words match, and those briefs' bodies.
        briefs = sorted({brief_id for brief_id, _g, _s, _p in each})
        matched = goals_index.among(tantivy_searcher, query, briefs)
        each = [a for a in each if a[0] in matched]
        bodies_of = _bodies_of(session, matched)
        for brief_id, _goal_id, status, state in each:
            for body_id in bodies_of.get(brief_id, ()):
                per_body[(body_id, status, state == _PAST)] += 1
    names = _body_names(session, {*past.per_body, *(b for b, _s, _p in per_body)})
    tally = ScoreTally()
    tally.totals[None] = past.goals
    for body_id, count in past.per_body.items():
        if body_id in names:  # (a body the index still names but the database no longer has)
            tally.per_body.setdefault(names[body_id], Counter())[None] += count
    for _brief_id, _goal_id, status, state in each:
        tally.totals[status] += 1
        if state == _PAST:
            tally.totals[None] -= 1
    for (body_id, status, was_past), count in per_body.items():
        counter = tally.per_body.setdefault(names[body_id], Counter())
        counter[status] += count
        if was_past:
            counter[None] -= count
    tally.totals = +tally.totals  # drop the zeros: a body with nothing scored is not listed
    tally.per_body = {b: +c for b, c in tally.per_body.items() if +c}
    # Briefs: those with a past goal, and those with only answered goals not yet due.
    only_later = {brief_id for brief_id, _g, _s, state in each if state == _ONLY_LATER}
    tally.briefs = past.briefs + len(only_later)
    # The earliest briefs: by their first past goal (deadline, then goal id), then the
    # briefs with only answered goals not yet due (always later), by their first of those.
    candidates = [
        (date.fromordinal(day), goal_id, brief_id)
        for day, goal_id, brief_id in goals_index.soonest_past(
            tantivy_searcher, query, kind, before, first
        )
    ]
    if only_later and len(candidates) < first:
        goal_ids = sorted(g for _b, g, _s, state in each if state == _ONLY_LATER)
        soonest: dict[int, tuple[date, int, int]] = {}
        for at in range(0, len(goal_ids), _LOAD_CHUNK):
            for due_on, goal_id, brief_id in session.execute(
                select(Goal.due_on, Goal.id, Goal.brief_id).where(
                    Goal.id.in_(goal_ids[at : at + _LOAD_CHUNK])
                )
            ):
                if due_on is not None:
                    key = (due_on, goal_id, brief_id)
                    soonest[brief_id] = min(soonest.get(brief_id, key), key)
        candidates += soonest.values()
    tally.first = sorted(candidates)[:first] if first > 0 else []
    return tally


def _split_score_tally(
    session: Session,
    team_id: str,
    today: date,
    where: BriefFilter,
    allowed: set[int] | None,
    *,
    first: int,
) -> ScoreTally:
    """`score_tally` as two parts that do not overlap: the goals past their deadline, counted
    from the goals' (kind, deadline, brief) index, and the team's answers (a few rows), which
    say how many of the former are answered and add the answered goals not yet due. Words
    (`allowed`: the briefs they match) keep the goals of those briefs: the past goals are
    then read as plain (deadline, id, brief) rows and counted here."""
    kinds = [str(k) for k in where.goal_kinds]
    joined = has_structured_filters(where)

    def goals(*columns: Any) -> Select[Any]:
        statement = select(*columns).select_from(Goal)
        if joined:
            statement = apply_filters(statement.join(Brief, Goal.brief_id == Brief.id), where)
        return statement.where(Goal.kind.in_(kinds), Goal.due_on.is_not(None))

    past = goals(func.count()).where(Goal.due_on < today)
    # The team's answers by their (team, goal) key first, then those goals by id: a join
    # would let the planner walk every goal of the kind instead.
    statuses = dict(
        session.execute(
            select(GoalAssessment.goal_id, GoalAssessment.status).where(
                GoalAssessment.team_id == team_id
            )
        ).all()
    )
    answered_ids = sorted(statuses)
    answered: list[tuple[str, int, int, date]] = []
    for at in range(0, len(answered_ids), _LOAD_CHUNK):
        chunk = answered_ids[at : at + _LOAD_CHUNK]
        for goal_id, brief_id, due_on in session.execute(
            goals(Goal.id, Goal.brief_id, Goal.due_on).where(Goal.id.in_(chunk))
        ):
            if due_on is not None and (allowed is None or brief_id in allowed):
                answered.append((statuses[goal_id], goal_id, brief_id, due_on))
    past_rows: list[tuple[date, int, int]] | None = None
    past_per_brief: Counter[int] = Counter()  # with words: past goals per brief, any brief
    if allowed is not None:
        every_past = session.execute(
            goals(Goal.due_on, Goal.id, Goal.brief_id).where(Goal.due_on < today)
        ).all()
        past_per_brief = Counter(b for _d, _g, b in every_past)
        past_rows = sorted((d, g, b) for d, g, b in every_past if b in allowed)
    answered_briefs = sorted({b for _s, _g, b, _d in answered})
    bodies_of: dict[int, list[str]] = {}
    for at in range(0, len(answered_briefs), _LOAD_CHUNK):
        for brief_id, body in session.execute(
            select(brief_bodies.c.brief_id, IssuingBody.abbreviation)
            .join(IssuingBody, IssuingBody.id == brief_bodies.c.body_id)
            .where(brief_bodies.c.brief_id.in_(answered_briefs[at : at + _LOAD_CHUNK]))
        ):
            bodies_of.setdefault(brief_id, []).append(body)
    tally = ScoreTally()
    # Past goals: unanswered unless the team answered them.
    tally.totals[None] = (session.scalar(past) or 0) if past_rows is None else len(past_rows)
    listed = brief_bodies.alias("listed_bodies")
    # Counted by body id, named after: a join to the bodies' names per goal costs a third more.
    by_body = (
        goals(listed.c.body_id, func.count())
        .join(listed, listed.c.brief_id == Goal.brief_id)
        .where(Goal.due_on < today)
        .group_by(listed.c.body_id)
    )
    if allowed is None:
        for body, count in _named(session, session.execute(by_body)).items():
            tally.per_body.setdefault(body, Counter())[None] = count
    else:
        # Each matched brief's past goals count for each of its bodies. Words that match
        # most briefs: every past goal by body, less those of the briefs they do not match.
        inside = [b for b in past_per_brief if b in allowed]
        outside = [b for b in past_per_brief if b not in allowed]
        past_by_body: Counter[str] = Counter()
        if len(outside) < len(inside):
            past_by_body.update(_named(session, session.execute(by_body)))
        sign, briefs = (-1, outside) if len(outside) < len(inside) else (1, inside)
        briefs.sort()
        for at in range(0, len(briefs), _LOAD_CHUNK):
            for brief_id, body in session.execute(
                select(brief_bodies.c.brief_id, IssuingBody.abbreviation)
                .join(IssuingBody, IssuingBody.id == brief_bodies.c.body_id)
                .where(brief_bodies.c.brief_id.in_(briefs[at : at + _LOAD_CHUNK]))
            ):
                past_by_body[body] += sign * past_per_brief[brief_id]
        for body, count in past_by_body.items():
            if count:
                tally.per_body[body] = Counter({None: count})
    for status, _goal_id, brief_id, due_on in answered:
        counted = [tally.totals]
        for body in bodies_of.get(brief_id, ()):
            if body not in tally.per_body:
                tally.per_body[body] = Counter()
            counted.append(tally.per_body[body])
        for counter in counted:
            counter[status] += 1
            if due_on < today:
                counter[None] -= 1
    tally.totals = +tally.totals  # drop the zeros: a body with nothing scored is not listed
    tally.per_body = {b: +c for b, c in tally.per_body.items() if +c}
    # Briefs: those with a past goal, and those with only answered goals not yet due.
    later = {b for _s, _g, b, d in answered if d >= today}
    with_past: set[int] = set()
    if past_rows is not None:
        past_brief_ids = {b for _d, _g, b in past_rows}
        past_briefs = len(past_brief_ids)
        with_past = later & past_brief_ids
    else:
        distinct = goals(func.count(func.distinct(Goal.brief_id))).where(Goal.due_on < today)
        past_briefs = session.scalar(distinct) or 0
    later_ids = sorted(later) if past_rows is None else []
    for at in range(0, len(later_ids), _LOAD_CHUNK):
        with_past.update(
            session.scalars(
                goals(Goal.brief_id)
                .where(Goal.due_on < today, Goal.brief_id.in_(later_ids[at : at + _LOAD_CHUNK]))
                .distinct()
            )
        )
    tally.briefs = past_briefs + len(later - with_past)
    # The earliest briefs: by their first past goal (in deadline order), then the briefs with
    # only answered goals not yet due, by their first of those.
    earliest: dict[int, tuple[date, int, int]] = {}
    if first > 0 and past_rows is not None:
        for due_on, goal_id, brief_id in past_rows:
            if brief_id not in earliest:
                earliest[brief_id] = (due_on, goal_id, brief_id)
                if len(earliest) >= first:
                    break
    elif first > 0:
        # The soonest past goals, more of them until they name `first` briefs (or run out):
        # a top-N sort instead of ordering every past goal.
        wanted = first * 8
        while True:
            rows = session.execute(
                goals(Goal.due_on, Goal.id, Goal.brief_id)
                .where(Goal.due_on < today)
                .order_by(Goal.due_on, Goal.id)
                .limit(wanted)
            ).all()
            earliest = {}
            for due_on, goal_id, brief_id in rows:
                if brief_id not in earliest:
                    earliest[brief_id] = (due_on, goal_id, brief_id)
                    if len(earliest) >= first:
                        break
            if len(earliest) >= first or len(rows) < wanted:
                break
            wanted *= 4
    candidates = list(earliest.values())
    only_later: dict[int, tuple[date, int, int]] = {}
    for _status, goal_id, brief_id, due_on in answered:
        if brief_id in later and brief_id not in with_past:
            key = (due_on, goal_id, brief_id)
            only_later[brief_id] = min(only_later.get(brief_id, key), key)
    tally.first = sorted([*candidates, *only_later.values()])[:first]
    return tally


def scored_goal_candidates(
    session: Session, brief_ids: Collection[int], goal_kinds: Collection[GoalKind]
) -> list[Goal]:
    """The goals of these briefs that have a deadline, soonest first (the scorecard keeps
    those past or answered)."""
    return list(
        session.scalars(
            select(Goal)
            .where(
                Goal.brief_id.in_(list(brief_ids)),
                Goal.due_on.is_not(None),
                Goal.kind.in_([str(k) for k in goal_kinds]),
            )
            .order_by(Goal.due_on, Goal.id)
        )
    )


def _named(session: Session, counts: Iterable[tuple[int, int]]) -> Counter[str]:
    """Counts by body id -> counts by the bodies' abbreviations."""
    by_id = {body_id: count for body_id, count in counts}
    names = session.execute(
        select(IssuingBody.id, IssuingBody.abbreviation).where(IssuingBody.id.in_(list(by_id)))
    )
    named: Counter[str] = Counter()
    for body_id, abbreviation in names:
        named[abbreviation] += by_id[body_id]
    return named
