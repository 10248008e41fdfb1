"""Queries over the brief store. Functions take a Session and return models or dataclasses."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    UnaryExpression,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from .bodies import normalize_name
from .models import (
    BodyAlias,
    Brief,
    BriefKind,
    Goal,
    GoalAssessment,
    GoalKind,
    IssuingBody,
    VocabularyTerm,
    brief_bodies,
)
from .search.analysis import TermQuery
from .search.engines import engine_for
from .search.live import SearchView
from .search.ranking import Filters, Plan

_REF = re.compile(r"^\s*[bB]?(\d{1,12})\s*$")
_GOAL_REF = re.compile(r"^\s*[gG](\d{1,12})\s*$")
# Ids are INTEGER columns: PostgreSQL refuses a larger number in a comparison, so an id
# typed beyond the range is simply not found.
MAX_ID = 2**31 - 1
MAX_SUGGESTED_WORDS = 8  # "did you mean" looks at this many of the query's words
_LOAD_CHUNK = 500  # ids per IN list (SQLite caps bound parameters)
_TALLY_CHUNK = 5000  # brief ids per counting pass of a scorecard narrowed by words


@dataclass(frozen=True)
class BriefFilter:
    """A search: analysed text queries plus structured filters (all optional)."""

    include: tuple[TermQuery, ...] = ()
    any_of: tuple[tuple[TermQuery, ...], ...] = ()  # each group: one member must match
    exclude: tuple[TermQuery, ...] = ()
    body_ids: tuple[frozenset[int], ...] = ()  # each set: the brief has one of these bodies
    exclude_body_ids: frozenset[int] = frozenset()  # the brief has none of these bodies
    since: date | None = None
    until: date | None = None
    due_year: int | None = None
    # A goal due in [due_from, due_by] ("by 2030": from today to the end of 2030).
    due_from: date | None = None
    due_by: date | None = None
    kind: BriefKind | None = None
    # Whose goals deadline lists, reminders and the scorecard follow: government targets
    # unless the query says `kind:company`. (Search ranks briefs and ignores it.)
    goal_kinds: tuple[GoalKind, ...] = (GoalKind.POLICY,)

    @property
    def has_text(self) -> bool:
        return bool(self.include or self.any_of)

    def plan(self) -> Plan:
        """What the index evaluates: the text clauses, exclusions and the filters."""
        clauses = (*((q,) for q in self.include), *self.any_of)
        filters = Filters(
            kind_news=None if self.kind is None else self.kind == BriefKind.NEWS,
            since=self.since,
            until=self.until,
            body_ids=self.body_ids,
            exclude_body_ids=self.exclude_body_ids,
            due_year=self.due_year,
        )
        return Plan(clauses, self.exclude, filters)


@dataclass
class Page:
    briefs: list[Brief]
    total: int
    offset: int
    limit: int
    # No brief matches every word: these are the best partial matches.
    partial: bool = False
    # Positions (in BriefFilter.plan's clauses) of words that no brief matches at all.
    unmatched: list[int] = field(default_factory=list)
    # Per brief id on the page: the index terms the search found in it (for highlighting).
    matched_terms: dict[int, frozenset[str]] = field(default_factory=dict)
    # The page's brief ids in order: what `briefs` holds, or, from `search(load=False)`, the
    # ids whose briefs the caller reads itself (data/views.brief_views).
    ids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.briefs and not self.ids:
            self.ids = [b.id for b in self.briefs]

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.ids) < self.total


@dataclass(frozen=True)
class DueGoal:
    goal: Goal
    brief: Brief


@dataclass
class Suggestions:
    terms: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    for_word: dict[str, list[str]] = field(default_factory=dict)  # word -> its close terms


def parse_brief_ref(text: str) -> int | None:
    match = _REF.match(text)
    return int(match.group(1)) if match else None


def parse_goal_ref(text: str) -> int | None:
    match = _GOAL_REF.match(text)
    return int(match.group(1)) if match else None


def get_brief(session: Session, brief_id: int) -> Brief | None:
    if not 0 < brief_id <= MAX_ID:
        return None
    return session.get(Brief, brief_id)


def get_brief_of_goal(session: Session, goal_id: int) -> Brief | None:
    if not 0 < goal_id <= MAX_ID:
        return None
    goal = session.get(Goal, goal_id)
    return goal.brief if goal else None


def all_briefs(session: Session) -> Sequence[Brief]:
    return session.scalars(select(Brief).order_by(Brief.id)).all()


_Statement = TypeVar("_Statement", bound=Select[*tuple[Any, ...]])


def _newest_first() -> tuple[UnaryExpression[Any], ...]:
    return (Brief.published_on.desc().nulls_last(), Brief.id.desc())


def latest(session: Session, limit: int, offset: int = 0, *, load: bool = True) -> Page:
    """The newest briefs; `load=False`: only their ids (`Page.ids`), as `search` gives them."""
    total = session.scalar(select(func.count()).select_from(Brief)) or 0
    if not load:
        ids = select(Brief.id).order_by(*_newest_first()).limit(limit).offset(offset)
        return Page([], total, offset, limit, ids=list(session.scalars(ids)))
    briefs = session.scalars(select(Brief).order_by(*_newest_first()).limit(limit).offset(offset))
    return Page(list(briefs), total, offset, limit)


def _apply_filters(statement: _Statement, where: BriefFilter) -> _Statement:
    if where.kind is not None:
        statement = statement.where(Brief.kind == where.kind)
    if where.since is not None:
        statement = statement.where(Brief.published_on >= where.since)
    if where.until is not None:
        statement = statement.where(Brief.published_on <= where.until)
    for ids in where.body_ids:
        statement = statement.where(
            exists().where(brief_bodies.c.brief_id == Brief.id, brief_bodies.c.body_id.in_(ids))
        )
    if where.exclude_body_ids:
        statement = statement.where(
            ~exists().where(
                brief_bodies.c.brief_id == Brief.id,
                brief_bodies.c.body_id.in_(where.exclude_body_ids),
            )
        )
    if where.due_year is not None:
        # A deadline in that year; a window's deadline is when it closes.
        start, end = date(where.due_year, 1, 1), date(where.due_year, 12, 31)
        goal = aliased(Goal)  # the statement may list goals itself (due_goals)
        statement = statement.where(
            exists().where(goal.brief_id == Brief.id, goal.due_on.between(start, end))
        )
    if where.due_by is not None:
        statement = statement.where(exists().where(*_due_by_conditions(aliased(Goal), where)))
    return statement


def _due_by_conditions(goal: Any, where: BriefFilter) -> list[ColumnElement[bool]]:
    conditions = [goal.brief_id == Brief.id, goal.due_on <= where.due_by]
    if where.due_from is not None:
        conditions.append(goal.due_on >= where.due_from)
    return conditions


def _plan(session: Session, where: BriefFilter) -> Plan:
    """The index's plan; a due-by bound is exact to the day, which the index's per-year
    slots cannot say, so the database names the briefs it allows."""
    plan = where.plan()
    if where.due_by is None:
        return plan
    conditions = [Goal.due_on <= where.due_by]
    if where.due_from is not None:
        conditions.append(Goal.due_on >= where.due_from)
    allowed = frozenset(session.scalars(select(Goal.brief_id).where(*conditions).distinct()))
    return replace(plan, filters=replace(plan.filters, brief_ids=allowed))


def _has_structured_filters(where: BriefFilter) -> bool:
    return bool(
        where.kind is not None
        or where.since is not None
        or where.until is not None
        or where.body_ids
        or where.exclude_body_ids
        or where.due_year is not None
        or where.due_by is not None
    )


def search(
    session: Session, where: BriefFilter, limit: int, offset: int = 0, *, load: bool = True
) -> Page:
    """Briefs matching the filter: best text match first (exact BM25F over the whole store:
    titles weigh most), then newest. Briefs with every word come first; when no brief has
    them all, the best partial matches (`Page.partial`). Without text: newest first.
    `load=False`: only the page's ids (`Page.ids`), for a caller that reads what it shows
    itself or needs only the count."""
    if not (where.has_text or where.exclude):
        statement = _apply_filters(select(Brief), where)
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        if not load:
            ids = _apply_filters(select(Brief.id), where).order_by(*_newest_first())
            return Page(
                [], total, offset, limit, ids=list(session.scalars(ids.limit(limit).offset(offset)))
            )
        newest = session.scalars(statement.order_by(*_newest_first()).limit(limit).offset(offset))
        return Page(list(newest), total, offset, limit)
    ranked = SearchView(session).searcher.rank(_plan(session, where), max(limit, 0), offset)
    if not load:
        return Page(
            [],
            ranked.total,
            offset,
            limit,
            ranked.partial,
            ranked.unmatched,
            ranked.matched_terms,
            ids=list(ranked.brief_ids),
        )
    loaded = {b.id: b for b in session.scalars(select(Brief).where(Brief.id.in_(ranked.brief_ids)))}
    briefs = [loaded[i] for i in ranked.brief_ids if i in loaded]
    return Page(
        briefs, ranked.total, offset, limit, ranked.partial, ranked.unmatched, ranked.matched_terms
    )


def text_matches(session: Session, where: BriefFilter) -> set[int]:
    """Ids of the briefs whose text matches (every word, no exclusion) and pass the filters."""
    return SearchView(session).searcher.matching(_plan(session, where))


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
    if ordered or (where is not None and _has_structured_filters(where)):
        statement = statement.join(Brief, Goal.brief_id == Brief.id)
    return _apply_filters(statement, where) if where is not None else statement


def _has_text(where: BriefFilter | None) -> bool:
    return where is not None and bool(where.has_text or where.exclude)


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
    allowed = text_matches(session, where) if where is not None and _has_text(where) else None
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
    if _has_text(where):
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
    """Counted by the database, not by loading goals: one pass per count over the scored
    goals (words narrow them to the index's matches, a chunk of brief ids at a time)."""
    allowed = text_matches(session, where) if _has_text(where) else None
    return _split_score_tally(session, team_id, today, where, allowed, first=first)


def _chunked_score_tally(
    session: Session, team_id: str, today: date, where: BriefFilter, *, first: int
) -> ScoreTally:
    """The scorecard in one pass per count over every scored goal (kept to compare with)."""
    answer = aliased(GoalAssessment)
    scored = (
        select()
        .select_from(Goal)
        .join(Brief, Goal.brief_id == Brief.id)
        .outerjoin(answer, and_(answer.goal_id == Goal.id, answer.team_id == team_id))
        .where(
            Goal.due_on.is_not(None),
            Goal.kind.in_([str(k) for k in where.goal_kinds]),
            or_(answer.id.is_not(None), Goal.due_on < today),
        )
    )
    scored = _apply_filters(scored, where)
    tally = ScoreTally()
    if _has_text(where):
        allowed = sorted(text_matches(session, where))
        parts = [
            scored.where(Goal.brief_id.in_(allowed[at : at + _TALLY_CHUNK]))
            for at in range(0, len(allowed), _TALLY_CHUNK)
        ]
    else:
        parts = [scored]
    for part in parts:
        for status, count in session.execute(
            part.add_columns(answer.status, func.count()).group_by(answer.status)
        ):
            tally.totals[status] += count
        # An alias: a body: filter's EXISTS over brief_bodies must not correlate to this join.
        listed = brief_bodies.alias("listed_bodies")
        by_body = (
            part.join(listed, listed.c.brief_id == Brief.id)
            .join(IssuingBody, IssuingBody.id == listed.c.body_id)
            .add_columns(IssuingBody.abbreviation, answer.status, func.count())
            .group_by(IssuingBody.abbreviation, answer.status)
        )
        for body, status, count in session.execute(by_body):
            tally.per_body.setdefault(body, Counter())[status] += count
        tally.briefs += (
            session.scalar(part.add_columns(func.count(func.distinct(Goal.brief_id)))) or 0
        )
        ranked = part.add_columns(
            Goal.brief_id,
            Goal.due_on,
            Goal.id,
            func.row_number()
            .over(partition_by=Goal.brief_id, order_by=(Goal.due_on, Goal.id))
            .label("nth"),
        ).subquery()
        earliest = (
            select(ranked.c.due_on, ranked.c.id, ranked.c.brief_id)
            .where(ranked.c.nth == 1)
            .order_by(ranked.c.due_on, ranked.c.id)
            .limit(first)
        )
        tally.first += [(d, g, b) for d, g, b in session.execute(earliest)]
    tally.first = sorted(tally.first)[:first]
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
    joined = _has_structured_filters(where)

    def goals(*columns: Any) -> Select[Any]:
        statement = select(*columns).select_from(Goal)
        if joined:
            statement = _apply_filters(statement.join(Brief, Goal.brief_id == Brief.id), where)
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
    by_body = (
        goals(IssuingBody.abbreviation, func.count())
        .join(listed, listed.c.brief_id == Goal.brief_id)
        .join(IssuingBody, IssuingBody.id == listed.c.body_id)
        .where(Goal.due_on < today)
    )
    if allowed is None:
        for body, count in session.execute(by_body.group_by(IssuingBody.abbreviation)):
            tally.per_body.setdefault(body, Counter())[None] = count
    else:
        # Each matched brief's past goals count for each of its bodies. Words that match
        # most briefs: every past goal by body, less those of the briefs they do not match.
        inside = [b for b in past_per_brief if b in allowed]
        outside = [b for b in past_per_brief if b not in allowed]
        past_by_body: Counter[str] = Counter()
        if len(outside) < len(inside):
            for body, count in session.execute(by_body.group_by(IssuingBody.abbreviation)):
                past_by_body[body] = count
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
        counted = [
            tally.totals,
            *(tally.per_body.setdefault(b, Counter()) for b in bodies_of.get(brief_id, [])),
        ]
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


def resolve_body(session: Session, name: str) -> IssuingBody | None:
    normalized = normalize_name(name)
    if not normalized:
        return None
    return session.scalar(
        select(IssuingBody).join(BodyAlias).where(BodyAlias.normalized == normalized)
    )


def bodies_by_name(session: Session) -> dict[str, IssuingBody]:
    """Every body under each of its normalized names, for matching many words at once."""
    rows = session.execute(select(BodyAlias.normalized, IssuingBody).join(BodyAlias.body))
    return {normalized: body for normalized, body in rows}


def body_names(body: IssuingBody) -> list[str]:
    """All the names a body goes by: abbreviation, full name, aliases (no duplicates)."""
    names = [body.abbreviation, body.full_name, *(a.alias for a in body.aliases)]
    return list(dict.fromkeys(n for n in names if n))


def suggest(session: Session, words: Sequence[str], limit: int = 3) -> Suggestions:
    """Close spellings, for "did you mean", of words that do not occur in any brief."""
    out = Suggestions()
    vocabulary = list(session.scalars(select(VocabularyTerm.term)))
    known = set(vocabulary)
    words = [w for w in dict.fromkeys(words) if w.lower() not in known][:MAX_SUGGESTED_WORDS]
    for word in words:
        close = [
            m
            for m in difflib.get_close_matches(word.lower(), vocabulary, n=limit, cutoff=0.75)
            if m != word.lower()
        ]
        if close:
            out.for_word[word] = close
        out.terms.extend(m for m in close if m not in out.terms)
    aliases = session.execute(select(BodyAlias.alias, IssuingBody.abbreviation).join(IssuingBody))
    by_alias = {alias.lower(): abbreviation for alias, abbreviation in aliases}
    for word in words:
        if not (word.isupper() or not word.isascii()):
            continue  # body names are typed as abbreviations or in Chinese
        for match in difflib.get_close_matches(word.lower(), list(by_alias), n=limit, cutoff=0.7):
            name = by_alias[match]
            if name not in out.bodies:
                out.bodies.append(name)
    return out


def used_bodies(session: Session) -> list[str]:
    """Abbreviations of bodies that at least one brief names."""
    return list(
        session.scalars(
            select(IssuingBody.abbreviation)
            .where(exists().where(brief_bodies.c.body_id == IssuingBody.id))
            .order_by(IssuingBody.abbreviation)
        )
    )


def matching_ids(
    session: Session,
    where: BriefFilter,
    *,
    ingested_after: datetime | None = None,
    ingested_until: datetime | None = None,
    only_ids: Collection[int] | None = None,
    unless: ColumnElement[bool] | None = None,
) -> list[int]:
    """Ids of briefs that match the filter, optionally only among those ingested in
    (after, until] or among `only_ids`, and not `unless`.

    With a window or `only_ids`, the few candidates are found first and only they are
    tested against the text index: the cost follows the new briefs, not the history."""
    statement: Select[int] = select(Brief.id)
    if ingested_after is not None:
        statement = statement.where(Brief.ingested_at > ingested_after)
    if ingested_until is not None:
        statement = statement.where(Brief.ingested_at <= ingested_until)
    if only_ids is not None:
        statement = statement.where(Brief.id.in_(list(only_ids)))
    statement = _apply_filters(statement, where)
    if unless is not None:
        statement = statement.where(~unless)
    statement = statement.order_by(Brief.id)
    if not (where.has_text or where.exclude):
        return list(session.scalars(statement))
    candidates = list(session.scalars(statement))
    if ingested_after is not None or only_ids is not None:
        found = engine_for(session).among(
            session, where.include, where.exclude, candidates, any_of=where.any_of
        )
    else:
        found = text_matches(session, where)
    return [i for i in candidates if i in found]
