"""Queries over the brief store. Functions take a Session and return models or dataclasses."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from data.bodies import normalize_name
from data.models import BodyAlias, Brief, BriefKind, Goal, IssuingBody, VocabularyTerm, brief_bodies
from data.search.analysis import TermQuery
from data.search.engines import engine_for

_REF = re.compile(r"^\s*[bB]?(\d{1,12})\s*$")
_GOAL_REF = re.compile(r"^\s*[gG](\d{1,12})\s*$")


@dataclass(frozen=True)
class BriefFilter:
    """A search: analysed text queries plus structured filters (all optional)."""

    include: tuple[TermQuery, ...] = ()
    exclude: tuple[TermQuery, ...] = ()
    body_ids: tuple[frozenset[int], ...] = ()  # each set: the brief has one of these bodies
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


def parse_brief_ref(text: str) -> int | None:
    match = _REF.match(text)
    return int(match.group(1)) if match else None


def parse_goal_ref(text: str) -> int | None:
    match = _GOAL_REF.match(text)
    return int(match.group(1)) if match else None


def get_brief(session: Session, brief_id: int) -> Brief | None:
    if brief_id > 2**62:
        return None
    return session.get(Brief, brief_id)


def get_brief_of_goal(session: Session, goal_id: int) -> Brief | None:
    if goal_id > 2**62:
        return None
    goal = session.get(Goal, goal_id)
    return goal.brief if goal else None


def all_briefs(session: Session) -> Sequence[Brief]:
    return session.scalars(select(Brief).order_by(Brief.id)).all()


def _newest_first() -> tuple[object, ...]:
    return (Brief.published_on.desc().nulls_last(), Brief.id.desc())


def latest(session: Session, limit: int, offset: int = 0) -> Page:
    total = session.scalar(select(func.count()).select_from(Brief)) or 0
    briefs = session.scalars(select(Brief).order_by(*_newest_first()).limit(limit).offset(offset))
    return Page(list(briefs), total, offset, limit)


def _apply_filters(statement: Select[tuple[Brief]], where: BriefFilter) -> Select[tuple[Brief]]:
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


def search(session: Session, where: BriefFilter, limit: int, offset: int = 0) -> Page:
    """Briefs matching the filter: best text match first (titles weigh most), then newest."""
    engine = engine_for(session)
    statement = select(Brief)
    order: list[object] = []
    if where.include:
        hits = engine.matches(where.include)
        statement = statement.join(hits, hits.c.brief_id == Brief.id)
        order.append(hits.c.score.desc())
    if where.exclude:
        excluded = engine.matches(where.exclude, any_of=True)
        statement = statement.where(Brief.id.not_in(select(excluded.c.brief_id)))
    statement = _apply_filters(statement, where)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    order.extend(_newest_first())
    briefs = session.scalars(statement.order_by(*order).limit(limit).offset(offset))
    return Page(list(briefs), total, offset, limit)


def due_goals(
    session: Session, start: date, end: date, where: BriefFilter | None = None
) -> list[DueGoal]:
    """Goals with a deadline in [start, end] (a window: when it closes), soonest first."""
    briefs = select(Brief.id)
    if where is not None and (where.include or where.exclude):
        engine = engine_for(session)
        if where.include:
            hits = engine.matches(where.include)
            briefs = briefs.join(hits, hits.c.brief_id == Brief.id)
        if where.exclude:
            excluded = engine.matches(where.exclude, any_of=True)
            briefs = briefs.where(Brief.id.not_in(select(excluded.c.brief_id)))
    if where is not None:
        briefs = _apply_filters(briefs, where)  # type: ignore[arg-type]
    rows = session.execute(
        select(Goal, Brief)
        .join(Brief, Goal.brief_id == Brief.id)
        .where(Goal.due_on.between(start, end), Goal.brief_id.in_(briefs))
        .order_by(Goal.due_on, Brief.published_on.desc().nulls_last(), Goal.id)
    )
    return [DueGoal(goal, brief) for goal, brief in rows]


def resolve_body(session: Session, name: str) -> IssuingBody | None:
    normalized = normalize_name(name)
    if not normalized:
        return None
    return session.scalar(
        select(IssuingBody).join(BodyAlias).where(BodyAlias.normalized == normalized)
    )


def suggest(session: Session, words: Sequence[str], limit: int = 3) -> Suggestions:
    """Close spellings of words that do occur, for "did you mean"."""
    out = Suggestions()
    vocabulary = list(session.scalars(select(VocabularyTerm.term)))
    for word in words:
        out.terms.extend(
            m
            for m in difflib.get_close_matches(word.lower(), vocabulary, n=limit, cutoff=0.75)
            if m not in out.terms and m != word.lower()
        )
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
