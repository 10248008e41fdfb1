"""Queries over the brief store. Functions take a Session and return models or dataclasses."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, UnaryExpression, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from policybot.data.bodies import normalize_name
from policybot.data.models import (
    BodyAlias,
    Brief,
    BriefKind,
    Goal,
    GoalKind,
    IssuingBody,
    VocabularyTerm,
    brief_bodies,
)
from policybot.data.search.analysis import TermQuery
from policybot.data.search.engines import SearchEngine, engine_for

_REF = re.compile(r"^\s*[bB]?(\d{1,12})\s*$")
_GOAL_REF = re.compile(r"^\s*[gG](\d{1,12})\s*$")
# Ids are INTEGER columns: PostgreSQL refuses a larger number in a comparison, so an id
# typed beyond the range is simply not found.
MAX_ID = 2**31 - 1
MAX_SUGGESTED_WORDS = 8  # "did you mean" looks at this many of the query's words


@dataclass(frozen=True)
class BriefFilter:
    """A search: analysed text queries plus structured filters (all optional)."""

    include: tuple[TermQuery, ...] = ()
    exclude: tuple[TermQuery, ...] = ()
    body_ids: tuple[frozenset[int], ...] = ()  # each set: the brief has one of these bodies
    exclude_body_ids: frozenset[int] = frozenset()  # the brief has none of these bodies
    since: date | None = None
    until: date | None = None
    due_year: int | None = None
    kind: BriefKind | None = None

    @property
    def has_text(self) -> bool:
        return bool(self.include)


@dataclass
class Page:
    briefs: list[Brief]
    total: int
    offset: int
    limit: int
    # True when a tier of matches was larger than the engine ranks at once, so this page
    # ranks the most recently added of them (a reply may suggest narrowing the search).
    ranked_in_blocks: bool = False

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.briefs) < self.total


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


_Statement = TypeVar("_Statement", bound=Select[Any])


def _newest_first() -> tuple[UnaryExpression[Any], ...]:
    return (Brief.published_on.desc().nulls_last(), Brief.id.desc())


def latest(session: Session, limit: int, offset: int = 0) -> Page:
    total = session.scalar(select(func.count()).select_from(Brief)) or 0
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
        start, end = date(where.due_year, 1, 1), date(where.due_year, 12, 31)
        statement = statement.where(
            exists().where(
                Goal.brief_id == Brief.id,
                or_(
                    Goal.due_on.between(start, end),
                    # A window is due in every year it spans.
                    and_(Goal.window_start <= end, Goal.due_on >= start),
                ),
            )
        )
    return statement


def _has_structured_filters(where: BriefFilter) -> bool:
    return bool(
        where.kind is not None
        or where.since is not None
        or where.until is not None
        or where.body_ids
        or where.exclude_body_ids
        or where.due_year is not None
    )


def search(session: Session, where: BriefFilter, limit: int, offset: int = 0) -> Page:
    """Briefs matching the filter: best text match first (titles weigh most), then newest.

    Text matches are ranked in tiers and blocks (see data/search/engines.py): briefs with a
    query word in a title first; a tier larger than the engine's `RANK_BLOCK` is ranked a
    block at a time, most recently added first (`Page.ranked_in_blocks` says so)."""
    engine = engine_for(session)
    if not where.include:
        statement = select(Brief)
        if where.exclude:
            excluded = engine.candidates(where.exclude, any_of=True, name="excluded")
            statement = statement.where(Brief.id.not_in(select(excluded.c.brief_id)))
        statement = _apply_filters(statement, where)
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        newest = session.scalars(statement.order_by(*_newest_first()).limit(limit).offset(offset))
        return Page(list(newest), total, offset, limit)
    with engine.planning(session):
        matched = engine.candidates(where.include, where.exclude, name="matched")
        counted = select(func.count()).select_from(matched)
        if _has_structured_filters(where):
            counted = _apply_filters(counted.join(Brief, Brief.id == matched.c.brief_id), where)
        total = session.scalar(counted) or 0
        if offset >= total or limit <= 0:
            return Page([], total, offset, limit)
        ids, in_blocks = _ranked_ids(session, engine, where, limit, offset)
    loaded = {b.id: b for b in session.scalars(select(Brief).where(Brief.id.in_(ids)))}
    briefs = [loaded[i] for i in ids if i in loaded]
    return Page(briefs, total, offset, limit, ranked_in_blocks=in_blocks)


def _ranked_ids(
    session: Session, engine: SearchEngine, where: BriefFilter, limit: int, offset: int
) -> tuple[list[int], bool]:
    """The ids of one page: through the tiers (title matches, then the rest), a block of
    each at a time, until the page is full. Also whether a tier filled a whole block (so
    the ranking was by block rather than over all matches)."""
    size = engine.RANK_BLOCK
    restrict = (lambda s: _apply_filters(s, where)) if _has_structured_filters(where) else None
    ids: list[int] = []
    skip = offset  # matches to pass over before the page starts
    in_blocks = False
    for title in engine.tiers:
        block = 0
        while len(ids) < limit:
            statement, params = engine.ranked_block(
                where.include,
                where.exclude,
                title=title,
                restrict=restrict,
                size=size,
                offset=block * size,
                top=skip + limit - len(ids),
            )
            rows = session.execute(statement, params).all()
            block_rows = rows[0][1] if rows else 0
            in_blocks = in_blocks or block_rows >= size
            if skip < block_rows:
                ids.extend(brief_id for brief_id, _ in rows[skip:])
                skip = 0
            else:
                skip -= block_rows
            if block_rows < size:
                break  # the tier is exhausted
            block += 1
        if len(ids) >= limit:
            break
    return ids, in_blocks


def due_goals(
    session: Session,
    start: date,
    end: date,
    where: BriefFilter | None = None,
    *,
    goal_kinds: Collection[GoalKind] = (GoalKind.POLICY,),
) -> list[DueGoal]:
    """Goals with a deadline in [start, end] (a window: when it closes), soonest first.
    Government targets only unless `goal_kinds` asks for company commitments too."""
    briefs = select(Brief.id)
    engine = engine_for(session)
    if where is not None and (where.include or where.exclude):
        if where.include:
            hits = engine.candidates(where.include, where.exclude, name="due")
            briefs = briefs.join(hits, hits.c.brief_id == Brief.id)
        else:
            excluded = engine.candidates(where.exclude, any_of=True, name="excluded")
            briefs = briefs.where(Brief.id.not_in(select(excluded.c.brief_id)))
    if where is not None:
        briefs = _apply_filters(briefs, where)
    with engine.planning(session) if where is not None and (where.include or where.exclude) else nullcontext():
        rows = session.execute(
            select(Goal, Brief)
            .join(Brief, Goal.brief_id == Brief.id)
            .where(
                Goal.due_on.between(start, end),
                Goal.brief_id.in_(briefs),
                Goal.kind.in_([str(kind) for kind in goal_kinds]),
            )
            .order_by(Goal.due_on, Brief.published_on.desc().nulls_last(), Goal.id)
        ).all()
    return [DueGoal(goal, brief) for goal, brief in rows]


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
    if not (where.include or where.exclude):
        return list(session.scalars(statement))
    engine = engine_for(session)
    if ingested_after is not None or only_ids is not None:
        candidates = list(session.scalars(statement))
        found = engine.among(session, where.include, where.exclude, candidates)
        return [i for i in candidates if i in found]
    if where.include:
        hits = engine.candidates(where.include, where.exclude, name="matching")
        statement = statement.join(hits, hits.c.brief_id == Brief.id)
    else:
        excluded = engine.candidates(where.exclude, any_of=True, name="excluded")
        statement = statement.where(Brief.id.not_in(select(excluded.c.brief_id)))
    with engine.planning(session):
        return list(session.scalars(statement))
