"""One search interface, two engines: SQLite FTS5 and PostgreSQL tsvector + GIN.

Both index the terms that `analysis.index_terms` produces, with four weighted fields
(titles rank above issuing bodies, body text and comments). Query syntax is generated here from
`TermQuery` values; every term is quoted, so user input cannot change a query's meaning.

Ranking costs time per matching brief (bm25, ts_rank), and a common word matches most of the
store, so a search ranks in tiers and blocks rather than scoring every match:

- tier 1 holds the matches with at least one query word in a title, tier 2 the rest; every
  brief of tier 1 outranks every brief of tier 2 (that is what the scores say anyway);
- within a tier, the matches are ranked `RANK_BLOCK` at a time, most recently added (highest
  id) first: a tier no larger than a block is ranked exactly; of a larger one, the newest
  block is ranked first, then the next (`store.Page.ranked_in_blocks` says so).

A first page of a common word therefore ranks the title matches only (a few hundred briefs,
or the newest block of them), whatever the size of the store. Counts stay exact: counting
walks the index and scores nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Subquery,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import Session

from policybot.data.models import Brief
from policybot.data.search.analysis import TermQuery, index_terms

# Applies the store's structured filters to a statement that has `Brief` in its FROM.
Restrict = Callable[[Select[Any]], Select[Any]]


@dataclass(frozen=True)
class IndexedFields:
    title: str  # English and original-language titles
    bodies: str  # issuing bodies' abbreviations and full names
    text: str  # summary and goals
    comment: str

    def analysed(self) -> tuple[list[str], list[str], list[str], list[str]]:
        return (
            index_terms(self.title),
            index_terms(self.bodies),
            index_terms(self.text),
            index_terms(self.comment),
        )


class SearchEngine(ABC):
    RANK_BLOCK = 1000  # matches of a tier ranked together (see the module's docstring)
    # The tiers a search walks: True (a query word in a title), False (none); None is all
    # matches in one tier, where scores still put title matches first within each block.
    tiers: tuple[bool | None, ...] = (True, False)

    @abstractmethod
    def index(self, session: Session, items: Sequence[tuple[int, IndexedFields]]) -> None:
        """Add or replace the index entries of these briefs."""

    @abstractmethod
    def remove(self, session: Session, brief_ids: Sequence[int]) -> None: ...

    @abstractmethod
    def matches(self, queries: Sequence[TermQuery], *, any_of: bool = False) -> Subquery:
        """A subquery of (brief_id, score) for briefs matching all (or any) of the queries;
        a higher score is a better match. It scores every match: `ranked_block` does not."""

    @abstractmethod
    def candidates(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery] = (),
        *,
        any_of: bool = False,
        title: bool | None = None,
        name: str = "m",
    ) -> Subquery:
        """A subquery of (brief_id) for briefs matching all (or any) of `include` and none of
        `exclude`, unscored. title=True keeps those with at least one of `include` in a
        title (tier 1), False those with none (tier 2). `name` keeps parameter names apart
        (and stable, so that statements are cached) when a statement holds several."""

    def ranked_block(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        *,
        title: bool | None,
        restrict: Restrict | None,
        size: int,
        offset: int,
        top: int,
    ) -> tuple[Select[int, int], dict[str, Any]]:
        """The best `top` of one block of a tier, as (brief_id, rows in the block), best
        first; a statement and its parameters. The block: of the tier's matches that pass
        `restrict` (None: no filter), newest (highest id) first, the `size` after
        `offset`. Ranked by score, then by publication date, newest first.

        Without `restrict` the statement depends only on the queries' shape and is built
        once (building and caching a statement costs a good part of a search)."""
        params: dict[str, Any] = {"block_size": size, "block_offset": offset, "top": top, "cut": top - 1}
        params.update(self._ranking_params(include, exclude, title))
        shape = self._shape(include, exclude)
        if restrict is not None:
            return self._block_statement(title, shape, restrict), params
        key = (type(self), title, shape)
        statement = _BLOCK_STATEMENTS.get(key)
        if statement is None:
            statement = _BLOCK_STATEMENTS[key] = self._block_statement(title, shape, None)
        return statement, params

    @abstractmethod
    def _shape(self, include: Sequence[TermQuery], exclude: Sequence[TermQuery]) -> Hashable:
        """What the text of `_block_statement` depends on."""

    @abstractmethod
    def _ranking_params(
        self, include: Sequence[TermQuery], exclude: Sequence[TermQuery], title: bool | None
    ) -> dict[str, str]:
        """The values of `_block_statement`'s query parameters."""

    @abstractmethod
    def _block_statement(
        self, title: bool | None, shape: Any, restrict: Restrict | None
    ) -> Select[int, int]:
        """See `ranked_block`; takes `block_size`, `block_offset`, `top`, `cut` and the
        `_ranking_params` as parameters."""

    def planning(self, session: Session) -> AbstractContextManager[None]:
        """Wraps the statements of one search (see PostgresEngine.planning)."""
        return nullcontext()

    @abstractmethod
    def among(
        self,
        session: Session,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        brief_ids: Sequence[int],
    ) -> set[int]:
        """Those of `brief_ids` that match all of `include` and none of `exclude`. Its cost
        follows the ids (new briefs, say: a few, next to each other), not the size of the
        store."""


_BLOCK_STATEMENTS: dict[tuple[type, bool | None, Hashable], Select[int, int]] = {}


def _best_of_block(block: CTE) -> Select[int, int]:
    """The best `top` rows of a scored block (brief_id, score), with the block's size.

    Briefs are read (for the publication date that breaks ties) only for the rows that
    can make the cut: those scoring at least the `top`-th best score (`cut` = top - 1)."""
    cut = (
        select(block.c.score)
        .order_by(block.c.score.desc())
        .limit(1)
        .offset(bindparam("cut", type_=Integer))
        .scalar_subquery()
    )
    rows = select(func.count()).select_from(block).scalar_subquery()
    return (
        select(block.c.brief_id, rows.label("block_rows"))
        .join(Brief, Brief.id == block.c.brief_id)
        .where(block.c.score >= func.coalesce(cut, -1.0))
        .order_by(block.c.score.desc(), Brief.published_on.desc().nulls_last(), block.c.brief_id.desc())
        .limit(bindparam("top", type_=Integer))
    )


def _newest_block(newest: Select[Any], order: ColumnElement[Any]) -> Select[Any]:
    return (
        newest.order_by(order.desc())
        .limit(bindparam("block_size", type_=Integer))
        .offset(bindparam("block_offset", type_=Integer))
    )


def _text(sql: str, keys: Sequence[str], **columns: Any) -> Subquery:
    """A textual subquery whose parameters are given at execution."""
    return (
        text(sql)
        .bindparams(*(bindparam(key, type_=String) for key in keys))
        .columns(brief_id=Integer, **columns)
        .subquery()
    )


def _quote_fts5(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class Fts5Engine(SearchEngine):
    # bm25 weights per column: title, bodies, text, comment.
    WEIGHTS = (10.0, 5.0, 2.0, 1.0)
    RANK_BLOCK = 500  # bm25 costs about 3 µs a match (it reads each row's column sizes)

    def index(self, session: Session, items: Sequence[tuple[int, IndexedFields]]) -> None:
        if not items:
            return
        self.remove(session, [brief_id for brief_id, _ in items])
        rows = []
        for brief_id, fields in items:
            title, bodies, body, comment = (" ".join(t) for t in fields.analysed())
            rows.append({"id": brief_id, "t": title, "b": bodies, "x": body, "c": comment})
        session.execute(
            text(
                "INSERT INTO brief_search(rowid, title, bodies, body, comment) "
                "VALUES (:id, :t, :b, :x, :c)"
            ),
            rows,
        )

    def remove(self, session: Session, brief_ids: Sequence[int]) -> None:
        if brief_ids:
            session.execute(
                text("DELETE FROM brief_search WHERE rowid = :id"),
                [{"id": i} for i in brief_ids],
            )

    @staticmethod
    def expression(queries: Sequence[TermQuery], any_of: bool) -> str:
        parts = []
        for query in queries:
            alternatives = []
            for sequence in query.alternatives:
                phrase = " + ".join(_quote_fts5(t) for t in sequence)
                alternatives.append(phrase + (" *" if query.prefix else ""))
            parts.append("(" + " OR ".join(alternatives) + ")")
        return (" OR " if any_of else " AND ").join(parts)

    def _match(
        self, include: Sequence[TermQuery], exclude: Sequence[TermQuery], any_of: bool = False
    ) -> str:
        """One MATCH expression. bm25 is unchanged by the NOT part: a brief that matches
        holds none of its phrases."""
        expression = self.expression(include, any_of)
        if exclude:
            expression = f"({expression}) NOT ({self.expression(exclude, True)})"
        return expression

    @staticmethod
    def _in_title(queries: Sequence[TermQuery]) -> str:
        return "title : (" + Fts5Engine.expression(queries, True) + ")"

    def _bm25(self) -> str:
        return f"-bm25(brief_search, {', '.join(str(w) for w in self.WEIGHTS)})"

    def matches(self, queries: Sequence[TermQuery], *, any_of: bool = False) -> Subquery:
        name = "fts_all" if any_of else "fts_each"
        params = {name: self.expression(queries, any_of)}
        score = self._bm25()
        if not any_of:
            # bm25 adds up every alternative a brief holds (a body's abbreviation, full
            # name and Chinese names in its text) and can outweigh one word in a long
            # title. A point per query found in the title, above a bm25 squashed into
            # [0, 1), keeps titles first; bm25 orders briefs within that.
            score = " + ".join([*self._title_points(queries, name, params), f"{score} / (1.0 + {score})"])
        return self._subquery(
            f"SELECT rowid AS brief_id, {score} AS score "
            f"FROM brief_search WHERE brief_search MATCH :{name}",
            params,
            score=Float,
        )

    def _title_points(self, queries: Sequence[TermQuery], name: str, params: dict[str, str]) -> list[str]:
        points = []
        for index, query in enumerate(queries):
            key = f"{name}_t{index}"
            params[key] = "title : " + self.expression([query], False)
            points.append(f"(rowid IN (SELECT rowid FROM brief_search WHERE brief_search MATCH :{key}))")
        return points

    @staticmethod
    def _subquery(sql: str, params: dict[str, str], **columns: Any) -> Subquery:
        return (
            text(sql)
            .bindparams(*(bindparam(key, value=value) for key, value in params.items()))
            .columns(brief_id=Integer, **columns)
            .subquery()
        )

    @staticmethod
    def _tier_sql(title: bool | None, name: str) -> tuple[str, list[str]]:
        """The WHERE clause of one tier's matches, and its parameters' names.

        Tier 1 is one MATCH (`... AND title : (...)`), which FTS5 walks lazily, newest first;
        its bm25 then counts a title's words twice, which only sharpens the order among
        title matches. Tier 2 excludes tier 1's rowids, which SQLite collects once (the
        unary + keeps it from looking each one up in the index, which costs far more)."""
        where = f"brief_search MATCH :{name}"
        if title is False:
            where += f" AND +rowid NOT IN (SELECT rowid FROM brief_search WHERE brief_search MATCH :{name}_title)"
            return where, [name, f"{name}_title"]
        return where, [name]

    def _tier_params(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        any_of: bool,
        title: bool | None,
        name: str,
    ) -> dict[str, str]:
        expression = self._match(include, exclude, any_of)
        if title:
            expression = f"({expression}) AND {self._in_title(include)}"
        params = {name: expression}
        if title is False:
            params[f"{name}_title"] = self._in_title(include)
        return params

    def candidates(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery] = (),
        *,
        any_of: bool = False,
        title: bool | None = None,
        name: str = "m",
    ) -> Subquery:
        where, _ = self._tier_sql(title, name)
        return self._subquery(
            f"SELECT rowid AS brief_id FROM brief_search WHERE {where}",
            self._tier_params(include, exclude, any_of, title, name),
        )

    def _shape(self, include: Sequence[TermQuery], exclude: Sequence[TermQuery]) -> Hashable:
        return len(include)  # exclusions are inside the MATCH expression

    def _ranking_params(
        self, include: Sequence[TermQuery], exclude: Sequence[TermQuery], title: bool | None
    ) -> dict[str, str]:
        params = self._tier_params(include, exclude, False, title, "ranked")
        if title is not False and (title is None or len(include) > 1):
            for index, query in enumerate(include):
                params[f"ranked_t{index}"] = "title : " + self.expression([query], False)
        return params

    def _block_statement(
        self, title: bool | None, shape: Any, restrict: Restrict | None
    ) -> Select[int, int]:
        where, keys = self._tier_sql(title, "ranked")
        # Title points (see `matches`): one per query in a title; none in tier 2, and
        # exactly one in tier 1 when there is one query.
        if title is False:
            points = "0"
        elif title and shape == 1:
            points = "1"
        else:
            keys = [*keys, *(f"ranked_t{i}" for i in range(shape))]
            points = " + ".join(
                f"(rowid IN (SELECT rowid FROM brief_search WHERE brief_search MATCH :ranked_t{i}))"
                for i in range(shape)
            )
        hits = _text(
            f"SELECT rowid AS brief_id, {self._bm25()} AS relevance, {points} AS points "
            f"FROM brief_search WHERE {where}",
            keys,
            relevance=Float,
            points=Integer,
        )
        # SQLite folds `hits` into this statement and walks the index newest first (rowid
        # order), so bm25 is computed for the block's rows only.
        newest = select(hits.c.brief_id, hits.c.relevance, hits.c.points)
        if restrict is not None:
            newest = restrict(newest.join_from(hits, Brief, Brief.id == hits.c.brief_id))
        newest_block = _newest_block(newest, hits.c.brief_id).subquery()
        relevance = newest_block.c.relevance
        block = (
            select(
                newest_block.c.brief_id,
                (newest_block.c.points + relevance / (1.0 + relevance)).label("score"),
            )
            .cte("block")
            .prefix_with("MATERIALIZED")
        )
        return _best_of_block(block)

    def among(
        self,
        session: Session,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        brief_ids: Sequence[int],
    ) -> set[int]:
        if not brief_ids:
            return set()
        wanted = set(brief_ids)
        if include:
            expression, keep = self._match(include, exclude), True
        else:  # only exclusions: find the excluded ones
            expression, keep = self.expression(exclude, True), False
        statement = text(
            "SELECT rowid FROM brief_search "
            "WHERE brief_search MATCH :e AND rowid >= :low AND rowid <= :high"
        )
        found: set[int] = set()
        for low, high in _id_ranges(sorted(wanted)):
            found.update(session.scalars(statement, {"e": expression, "low": low, "high": high}))
        return wanted & found if keep else wanted - found


def _id_ranges(ids: Sequence[int], gap: int = 256, most: int = 4) -> list[tuple[int, int]]:
    """Sorted ids as a few ranges for FTS5 to read, each narrowing every doclist to it.

    New briefs have the highest ids, next to each other: one range, read at the cost of
    the new briefs whatever the history. Ids scattered in more than `most` clusters are
    read as one range (no worse than matching the whole index); looking ids up one at a
    time costs far more (FTS5 sets the whole query up again for each)."""
    ranges: list[tuple[int, int]] = []
    for brief_id in ids:
        if ranges and brief_id - ranges[-1][1] <= gap:
            ranges[-1] = (ranges[-1][0], brief_id)
        else:
            ranges.append((brief_id, brief_id))
    return ranges if len(ranges) <= most else [(ids[0], ids[-1])]


def _quote_lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


# tsvector positions stop at 16383; a gap between fields keeps phrases inside one field.
_MAX_POSITION = 16383
_FIELD_GAP = 3

# The title tier is found through a GIN index on the title lexemes,
#     CREATE INDEX ix_brief_search_title ON brief_search USING gin (ts_filter(document, '{a}'))
# (without it the same condition is right, only slower: every match is read to test it).
_TITLE_VECTOR = "ts_filter(document, '{a}')"

_search_table = table("brief_search", column("brief_id", Integer), column("document", TSVECTOR))


class PostgresEngine(SearchEngine):
    FIELD_WEIGHTS = ("A", "B", "C", "D")  # title, bodies, text, comment
    FIELD_SCORES = (1.0, 0.4, 0.2, 0.1)  # as ts_rank's default weights
    RANK_BLOCK = 250  # reading a brief's document (TOAST) and ranking it: ~13 µs

    def __init__(self, title_index: bool = True) -> None:
        # Without the title index, finding tier 1 means reading every match's document:
        # one tier then (title matches still come first within each block).
        self.tiers = (True, False) if title_index else (None,)

    @staticmethod
    def has_title_index(session: Session) -> bool:
        """Whether the database has the title index (asked once per pooled connection)."""
        info = session.connection().info
        if "policybot.title_index" not in info:
            info["policybot.title_index"] = bool(
                session.scalar(text("SELECT to_regclass('ix_brief_search_title') IS NOT NULL"))
            )
        return bool(info["policybot.title_index"])

    @staticmethod
    def vector_literal(fields: IndexedFields) -> str:
        positions: dict[tuple[str, str], list[int]] = {}
        position = 1
        weights = PostgresEngine.FIELD_WEIGHTS
        for weight, field_terms in zip(weights, fields.analysed(), strict=True):
            for term in field_terms:
                positions.setdefault((term, weight), []).append(min(position, _MAX_POSITION))
                position += 1
            position += _FIELD_GAP
        return " ".join(
            f"{_quote_lexeme(term)}:" + ",".join(f"{p}{weight}" for p in dict.fromkeys(ps))
            for (term, weight), ps in positions.items()
        )

    def index(self, session: Session, items: Sequence[tuple[int, IndexedFields]]) -> None:
        if not items:
            return
        session.execute(
            text(
                "INSERT INTO brief_search(brief_id, document) VALUES (:id, CAST(:doc AS tsvector)) "
                "ON CONFLICT (brief_id) DO UPDATE SET document = excluded.document"
            ),
            [{"id": brief_id, "doc": self.vector_literal(f)} for brief_id, f in items],
        )

    def remove(self, session: Session, brief_ids: Sequence[int]) -> None:
        if brief_ids:
            session.execute(
                text("DELETE FROM brief_search WHERE brief_id = ANY(:ids)"),
                {"ids": list(brief_ids)},
            )

    @staticmethod
    def expression(queries: Sequence[TermQuery], any_of: bool) -> str:
        parts = []
        for query in queries:
            alternatives = []
            for sequence in query.alternatives:
                alternatives.append(PostgresEngine._alternative(sequence, query.prefix))
            parts.append("(" + " | ".join(alternatives) + ")")
        return (" | " if any_of else " & ").join(parts)

    @staticmethod
    def _alternative(sequence: Sequence[str], prefix: bool, weight: str = "") -> str:
        mark = (":" if prefix or weight else "") + ("*" if prefix else "") + weight
        return "(" + " <-> ".join(_quote_lexeme(t) + mark for t in sequence) + ")"

    def _match(
        self, include: Sequence[TermQuery], exclude: Sequence[TermQuery], any_of: bool = False
    ) -> str:
        expression = self.expression(include, any_of)
        if exclude:
            expression = f"({expression}) & !({self.expression(exclude, True)})"
        return expression

    def matches(self, queries: Sequence[TermQuery], *, any_of: bool = False) -> Subquery:
        name = "tsq_all" if any_of else "tsq_each"
        params = {name: self.expression(queries, any_of)}
        score = f"ts_rank(document, CAST(:{name} AS tsquery))"
        if not any_of:
            score = " + ".join(self._query_score(name, i, q, params) for i, q in enumerate(queries))
        return (
            text(
                f"SELECT brief_id, {score} AS score "
                f"FROM brief_search WHERE document @@ CAST(:{name} AS tsquery)"
            )
            .bindparams(*(bindparam(key, value=value) for key, value in params.items()))
            .columns(brief_id=Integer, score=Float)
            .subquery()
        )

    def _query_score(self, name: str, index: int, query: TermQuery, params: dict[str, str]) -> str:
        """The score of one query: its best alternative's best field (a title match beats
        any number of matches in the text), then ts_rank to order within a field.

        ts_rank alone counts every alternative and every pair of a phrase's words, so a
        brief naming a body by its full name in the text outranked one with the
        abbreviation in its title."""
        alternatives = []
        for j, sequence in enumerate(query.alternatives):
            fields = []
            for weight, value in zip(self.FIELD_WEIGHTS, self.FIELD_SCORES, strict=True):
                key = f"{name}_{index}_{j}{weight.lower()}"
                params[key] = self._alternative(sequence, query.prefix, weight)
                fields.append(
                    f"CASE WHEN document @@ CAST(:{key} AS tsquery) THEN {value} ELSE 0 END"
                )
            key = f"{name}_{index}_{j}"
            params[key] = self._alternative(sequence, query.prefix)
            alternatives.append(
                f"GREATEST({', '.join(fields)}) + 0.01 * ts_rank(document, CAST(:{key} AS tsquery))"
            )
        return alternatives[0] if len(alternatives) == 1 else f"GREATEST({', '.join(alternatives)})"

    @staticmethod
    def _candidates_sql(title: bool | None, single: bool, name: str) -> tuple[str, list[str]]:
        """The SELECT of one tier's matches (brief_id), and its parameters' names. `single`:
        one query to include and none to exclude."""
        if title and single:
            # One query found in a title is found: the title index answers alone.
            return f"SELECT brief_id FROM brief_search WHERE {_TITLE_VECTOR} @@ CAST(:{name} AS tsquery)", [name]
        sql = f"SELECT brief_id FROM brief_search WHERE document @@ CAST(:{name} AS tsquery)"
        if title is None:
            return sql, [name]
        if title:
            return sql + f" AND {_TITLE_VECTOR} @@ CAST(:{name}_title AS tsquery)", [name, f"{name}_title"]
        # The title index lists tier 1; testing each match instead would read it.
        return (
            sql + f" AND brief_id NOT IN (SELECT brief_id FROM brief_search "
            f"WHERE {_TITLE_VECTOR} @@ CAST(:{name}_title AS tsquery))",
            [name, f"{name}_title"],
        )

    def _candidates_params(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        any_of: bool,
        title: bool | None,
        name: str,
    ) -> dict[str, str]:
        if title and len(include) == 1 and not exclude and not any_of:
            return {name: self.expression(include, True)}
        params = {name: self._match(include, exclude, any_of)}
        if title is not None:
            params[f"{name}_title"] = self.expression(include, True)
        return params

    def candidates(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery] = (),
        *,
        any_of: bool = False,
        title: bool | None = None,
        name: str = "m",
    ) -> Subquery:
        single = len(include) == 1 and not exclude and not any_of
        sql, _ = self._candidates_sql(title, single, name)
        params = self._candidates_params(include, exclude, any_of, title, name)
        return (
            text(sql)
            .bindparams(*(bindparam(key, value=value) for key, value in params.items()))
            .columns(brief_id=Integer)
            .subquery()
        )

    def _shape(self, include: Sequence[TermQuery], exclude: Sequence[TermQuery]) -> Hashable:
        return (tuple(len(q.alternatives) for q in include), bool(exclude))

    def _ranking_params(
        self, include: Sequence[TermQuery], exclude: Sequence[TermQuery], title: bool | None
    ) -> dict[str, str]:
        params = self._candidates_params(include, exclude, False, title, "ranked")
        for index, query in enumerate(include):
            for j, sequence in enumerate(query.alternatives):
                for weight in self.FIELD_WEIGHTS:
                    params[f"rank_{index}_{j}{weight.lower()}"] = self._alternative(sequence, query.prefix, weight)
                params[f"rank_{index}_{j}"] = self._alternative(sequence, query.prefix)
        return params

    def _block_statement(
        self, title: bool | None, shape: Any, restrict: Restrict | None
    ) -> Select[int, int]:
        alternatives, has_exclude = shape
        sql, keys = self._candidates_sql(title, len(alternatives) == 1 and not has_exclude, "ranked")
        hits = _text(sql, keys)
        newest = select(hits.c.brief_id)
        if restrict is not None:
            newest = restrict(newest.join_from(hits, Brief, Brief.id == hits.c.brief_id))
        # `+ 0`: walking the primary key backwards and testing each row would read
        # (detoast) every document on the way; the GIN bitmap and a top-N sort do not.
        block_ids = _newest_block(newest, hits.c.brief_id + 0)
        # The block's documents, each read (and decompressed) once: every function given
        # the stored column would fetch it from TOAST again.
        documents = (
            select(
                _search_table.c.brief_id,
                _search_table.c.document.op("||")(cast(literal(""), TSVECTOR)).label("d"),
            )
            .where(_search_table.c.brief_id.in_(block_ids))
            .offset(0)  # keeps PostgreSQL from folding the subquery (and the copy) away
            .subquery()
        )
        score = sum(
            (self._score_of(documents.c.d, i, count) for i, count in enumerate(alternatives)),
            start=literal(0.0),
        )
        block = (
            select(documents.c.brief_id, score.label("score"))
            .cte("block")
            .prefix_with("MATERIALIZED")
        )
        return _best_of_block(block)

    @contextmanager
    def planning(self, session: Session) -> Iterator[None]:
        """No sequential scans during a search (restored after it, in this transaction).

        The planner does not count the cost of reading a document (TOAST, decompression):
        for a common word it prefers reading every document of the table to the GIN
        bitmap, which costs 10-30x more. After an error nothing is restored: the setting
        is local to the transaction, which is rolled back."""
        previous = session.scalar(
            text(
                "SELECT setting.value FROM (SELECT current_setting('enable_seqscan') AS value OFFSET 0) setting "
                "WHERE set_config('enable_seqscan', 'off', true) IS NOT NULL"
            )
        )
        yield
        session.execute(text("SELECT set_config('enable_seqscan', :v, true)"), {"v": previous})

    def _score_of(self, document: ColumnElement[Any], index: int, alternatives: int) -> ColumnElement[float]:
        """`_query_score` as an expression over an already read document, for a query of
        `alternatives` alternatives (parameters from `_ranking_params`)."""

        def tsquery(key: str) -> ColumnElement[Any]:
            return cast(bindparam(key, type_=String), TSQUERY)

        best = []
        for j in range(alternatives):
            fields = [
                case((document.op("@@")(tsquery(f"rank_{index}_{j}{weight.lower()}")), value), else_=0.0)
                for weight, value in zip(self.FIELD_WEIGHTS, self.FIELD_SCORES, strict=True)
            ]
            rank = func.ts_rank(document, tsquery(f"rank_{index}_{j}"), type_=Float)
            best.append(func.greatest(*fields, type_=Float) + 0.01 * rank)
        return best[0] if len(best) == 1 else func.greatest(*best, type_=Float)

    def among(
        self,
        session: Session,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        brief_ids: Sequence[int],
    ) -> set[int]:
        if not brief_ids:
            return set()
        wanted = list(dict.fromkeys(brief_ids))
        if include:
            expression, keep = self._match(include, exclude), True
        else:
            expression, keep = self.expression(exclude, True), False
        found = set(
            session.scalars(
                text(
                    "SELECT brief_id FROM brief_search "
                    "WHERE brief_id = ANY(:ids) AND document @@ CAST(:e AS tsquery)"
                ),
                {"ids": wanted, "e": expression},
            )
        )
        return set(wanted) & found if keep else set(wanted) - found


def engine_for(session: Session) -> SearchEngine:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return Fts5Engine()
    if dialect == "postgresql":
        return PostgresEngine(title_index=PostgresEngine.has_title_index(session))
    raise RuntimeError(f"no search engine for the {dialect} database")
