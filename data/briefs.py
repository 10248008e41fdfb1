"""Briefs: looking them up by reference, the newest, searching them (a `BriefFilter`:
text for the index, structured filters for the database) and "did you mean"."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    UnaryExpression,
    and_,
    cast,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from .models import (
    AlertItem,
    BodyAlias,
    Brief,
    BriefKind,
    Delivery,
    DeliveryStatus,
    Goal,
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
_DATE_LOOKUP_LIMIT = 2000  # matches whose dates are read by id; more: walk newest first
_NEWEST_BATCH = 1000  # briefs per step of that walk
_LOAD_CHUNK = 500  # ids per IN list (SQLite caps bound parameters)
MAX_SUGGESTED_WORDS = 8  # "did you mean" looks at this many of the query's words


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


def apply_filters(statement: _Statement, where: BriefFilter) -> _Statement:
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


def has_structured_filters(where: BriefFilter) -> bool:
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
        statement = apply_filters(select(Brief), where)
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        if not load:
            ids = apply_filters(select(Brief.id), where).order_by(*_newest_first())
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


def has_text(where: BriefFilter | None) -> bool:
    return where is not None and bool(where.has_text or where.exclude)


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
    statement = apply_filters(statement, where)
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


def newest_matching(session: Session, where: BriefFilter, limit: int, offset: int) -> Page:
    """The ids of the briefs matching `where`, newest first (search ranks by relevance)."""
    if not (where.has_text or where.exclude):
        return search(session, where, limit, offset, load=False)  # newest first
    matched = text_matches(session, where)
    wanted = offset + limit
    ordered: list[int] = []
    if len(matched) <= _DATE_LOOKUP_LIMIT:
        ids = sorted(matched)
        rows: list[tuple[int, date | None]] = []
        for at in range(0, len(ids), _LOAD_CHUNK):
            chunk = ids[at : at + _LOAD_CHUNK]
            rows += [
                (row[0], row[1])
                for row in session.execute(
                    select(Brief.id, Brief.published_on).where(Brief.id.in_(chunk))
                )
            ]
        rows.sort(key=lambda r: (r[1] is not None, r[1] or date.min, r[0]), reverse=True)
        ordered = [brief_id for brief_id, _day in rows]
    else:
        # Many matches: the newest briefs hold them densely, so walk the store newest first.
        for batch in newest_briefs(session, _NEWEST_BATCH):
            ordered += [brief_id for brief_id, _day in batch if brief_id in matched]
            if len(ordered) >= wanted:
                break
    return Page([], len(matched), offset, limit, ids=ordered[offset:wanted])


def brief_by_identity(session: Session, identity: str) -> Brief | None:
    return session.scalar(select(Brief).where(Brief.identity == identity))


def briefs_by_ids(session: Session, brief_ids: Collection[int]) -> list[Brief]:
    """These briefs, in no particular order."""
    return list(session.scalars(select(Brief).where(Brief.id.in_(list(brief_ids)))))


def brief_titles(session: Session, brief_ids: Collection[int]) -> dict[int, str]:
    rows = session.execute(select(Brief.id, Brief.title).where(Brief.id.in_(list(brief_ids))))
    return {brief_id: title for brief_id, title in rows}


def briefs_linking_like(session: Session, fragment: str, *, limit: int) -> list[Brief]:
    """The newest briefs whose links (JSON text) hold the fragment: a LIKE that narrows
    the rows; the caller's exact test decides."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(
        session.scalars(
            select(Brief)
            .where(cast(Brief.links, String).like(f"%{escaped}%", escape="\\"))
            .order_by(Brief.published_on.desc(), Brief.id.desc())
            .limit(limit)
        )
    )


def undelivered_of_brief(session: Session, brief_id: int) -> int:
    """Digest items and alerts of this brief that were not sent yet (every workspace): its
    rows, and the items rule runs not sent yet carry for its goals (a run whose items are
    not fixed yet is not counted: they are worked out when it is posted)."""
    goal_ids = select(Goal.id).where(Goal.brief_id == brief_id)
    open_ = Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.CLAIMED))
    rows = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(or_(Delivery.brief_id == brief_id, Delivery.goal_id.in_(goal_ids)), open_)
    )
    items = session.scalar(
        select(func.count())
        .select_from(AlertItem)
        .join(Delivery, Delivery.id == AlertItem.delivery_id)
        .where(AlertItem.goal_id.in_(goal_ids), open_)
    )
    return (rows or 0) + (items or 0)


def newest_briefs(session: Session, batch: int) -> Iterator[list[tuple[int, date | None]]]:
    """(id, publication day) of every brief, newest first (undated last; ties: the higher
    id first), `batch` at a time, doubling. Dated briefs are read from the publication
    index backwards, each batch after the last one's key (no OFFSET, no sort of the store:
    PostgreSQL cannot read `DESC NULLS LAST` from that index), then the undated ones."""
    after: tuple[date, int] | None = None
    while True:
        dated = select(Brief.id, Brief.published_on).where(Brief.published_on.is_not(None))
        if after is not None:
            dated = dated.where(
                or_(
                    Brief.published_on < after[0],
                    and_(Brief.published_on == after[0], Brief.id < after[1]),
                )
            )
        rows = [
            (brief_id, published_on)
            for brief_id, published_on in session.execute(
                dated.order_by(Brief.published_on.desc(), Brief.id.desc()).limit(batch)
            )
        ]
        if rows:
            yield rows
        if len(rows) < batch:
            break
        last_id, last_day = rows[-1]
        assert last_day is not None
        after = (last_day, last_id)
        batch *= 2
    undated = select(Brief.id).where(Brief.published_on.is_(None)).order_by(Brief.id.desc())
    last: int | None = None
    while True:
        statement = undated if last is None else undated.where(Brief.id < last)
        ids = list(session.scalars(statement.limit(batch)))
        if ids:
            yield [(brief_id, None) for brief_id in ids]
        if len(ids) < batch:
            return
        last = ids[-1]
        batch *= 2
