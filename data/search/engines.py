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
  block is ranked first, then the next. Counting matches is cheap and always exact.

A first page of a common word therefore ranks the title matches only (a few hundred briefs,
or the newest block of them), whatever the size of the store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
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

from data.models import Brief
from data.search.analysis import TermQuery, index_terms

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

    @abstractmethod
    def ranked_block(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        *,
        title: bool,
        restrict: Restrict,
        size: int,
        offset: int,
    ) -> Select[tuple[int]]:
        """Ids of one block of a tier, best first: of the tier's matches that pass
        `restrict`, newest (highest id) first, the `size` after `offset`, ranked by score,
        then by publication date, newest first."""

    @abstractmethod
    def among(
        self,
        session: Session,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        brief_ids: Sequence[int],
    ) -> set[int]:
        """Those of `brief_ids` that match all of `include` and none of `exclude`. Its cost
        follows the number of ids (new briefs, say), not the size of the store."""


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

    def _tiered(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        any_of: bool,
        title: bool | None,
        name: str,
        params: dict[str, str],
    ) -> str:
        """The WHERE clause of one tier's matches.

        Tier 1 is one MATCH (`... AND title : (...)`), which FTS5 walks lazily, newest first;
        its bm25 then counts a title's words twice, which only sharpens the order among
        title matches. Tier 2 excludes tier 1's rowids, which SQLite collects once (the
        unary + keeps it from looking each one up in the index, which costs far more)."""
        expression = self._match(include, exclude, any_of)
        if title:
            expression = f"({expression}) AND {self._in_title(include)}"
        params[name] = expression
        where = f"brief_search MATCH :{name}"
        if title is False:
            key = f"{name}_title"
            params[key] = self._in_title(include)
            where += f" AND +rowid NOT IN (SELECT rowid FROM brief_search WHERE brief_search MATCH :{key})"
        return where

    def candidates(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery] = (),
        *,
        any_of: bool = False,
        title: bool | None = None,
        name: str = "m",
    ) -> Subquery:
        params: dict[str, str] = {}
        where = self._tiered(include, exclude, any_of, title, name, params)
        return self._subquery(f"SELECT rowid AS brief_id FROM brief_search WHERE {where}", params)

    def ranked_block(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        *,
        title: bool,
        restrict: Restrict,
        size: int,
        offset: int,
    ) -> Select[tuple[int]]:
        name = "ranked"
        params: dict[str, str] = {}
        where = self._tiered(include, exclude, False, title, name, params)
        # Title points (see `matches`): one per query in a title; none in tier 2, and
        # exactly one in tier 1 when there is one query.
        if not title:
            points = "0"
        elif len(include) == 1:
            points = "1"
        else:
            points = " + ".join(self._title_points(include, name, params))
        hits = self._subquery(
            f"SELECT rowid AS brief_id, {self._bm25()} AS relevance, {points} AS points "
            f"FROM brief_search WHERE {where}",
            params,
            relevance=Float,
            points=Integer,
        )
        # SQLite folds `hits` into this statement and walks the index newest first (rowid
        # order), so bm25 is computed for the block's rows only.
        block = (
            restrict(
                select(hits.c.brief_id, hits.c.relevance, hits.c.points, Brief.published_on).join_from(
                    hits, Brief, Brief.id == hits.c.brief_id
                )
            )
            .order_by(hits.c.brief_id.desc())
            .limit(size)
            .offset(offset)
            .subquery()
        )
        score = block.c.points + block.c.relevance / (1.0 + block.c.relevance)
        return select(block.c.brief_id).order_by(
            score.desc(), block.c.published_on.desc().nulls_last(), block.c.brief_id.desc()
        )

    def among(
        self,
        session: Session,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        brief_ids: Sequence[int],
    ) -> set[int]:
        if not brief_ids:
            return set()
        # A rowid range narrows every doclist the MATCH reads (new briefs have the
        # highest ids, next to each other); looking ids up one by one costs far more.
        low, high = min(brief_ids), max(brief_ids)
        wanted = set(brief_ids)
        if include:
            expression, keep = self._match(include, exclude), True
        else:  # only exclusions: find the excluded ones
            expression, keep = self.expression(exclude, True), False
        found = set(
            session.scalars(
                text(
                    "SELECT rowid FROM brief_search "
                    "WHERE brief_search MATCH :e AND rowid >= :low AND rowid <= :high"
                ),
                {"e": expression, "low": low, "high": high},
            )
        )
        return wanted & found if keep else wanted - found


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
    RANK_BLOCK = 500  # reading a brief's document (TOAST) and ranking it: ~5 µs

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

    def candidates(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery] = (),
        *,
        any_of: bool = False,
        title: bool | None = None,
        name: str = "m",
    ) -> Subquery:
        params = {name: self._match(include, exclude, any_of)}
        sql = f"SELECT brief_id FROM brief_search WHERE document @@ CAST(:{name} AS tsquery)"
        if title is not None:
            key = f"{name}_title"
            params[key] = self.expression(include, True)
            if title:  # both GIN indexes answer this (a BitmapAnd)
                sql += f" AND {_TITLE_VECTOR} @@ CAST(:{key} AS tsquery)"
            else:  # the title index lists tier 1; testing each match instead reads it
                sql += (
                    f" AND brief_id NOT IN (SELECT brief_id FROM brief_search "
                    f"WHERE {_TITLE_VECTOR} @@ CAST(:{key} AS tsquery))"
                )
        return (
            text(sql)
            .bindparams(*(bindparam(key, value=value) for key, value in params.items()))
            .columns(brief_id=Integer)
            .subquery()
        )

    def ranked_block(
        self,
        include: Sequence[TermQuery],
        exclude: Sequence[TermQuery],
        *,
        title: bool,
        restrict: Restrict,
        size: int,
        offset: int,
    ) -> Select[tuple[int]]:
        hits = self.candidates(include, exclude, title=title, name="ranked")
        block = (
            restrict(select(hits.c.brief_id).join_from(hits, Brief, Brief.id == hits.c.brief_id))
            .order_by(hits.c.brief_id.desc())
            .limit(size)
            .offset(offset)
        )
        # The block's documents, each read (and decompressed) once: every function given
        # the stored column would fetch it from TOAST again.
        documents = (
            select(
                _search_table.c.brief_id,
                _search_table.c.document.op("||")(cast(literal(""), TSVECTOR)).label("d"),
            )
            .where(_search_table.c.brief_id.in_(block))
            .offset(0)  # keeps PostgreSQL from folding the subquery (and the copy) away
            .subquery()
        )
        document = documents.c.d
        score = sum(
            (self._score_of(document, i, q) for i, q in enumerate(include)),
            start=literal(0.0),
        )
        scored = select(documents.c.brief_id, score.label("score")).subquery()
        return (
            select(scored.c.brief_id)
            .join(Brief, Brief.id == scored.c.brief_id)
            .order_by(scored.c.score.desc(), Brief.published_on.desc().nulls_last(), Brief.id.desc())
        )

    def _score_of(self, document: ColumnElement[Any], index: int, query: TermQuery) -> ColumnElement[float]:
        """`_query_score` as an expression over an already read document."""

        def tsquery(key: str, value: str) -> ColumnElement[Any]:
            return cast(bindparam(key, value=value), TSQUERY)

        alternatives = []
        for j, sequence in enumerate(query.alternatives):
            fields = [
                case(
                    (
                        document.op("@@")(
                            tsquery(f"rank_{index}_{j}{weight.lower()}", self._alternative(sequence, query.prefix, weight))
                        ),
                        value,
                    ),
                    else_=0.0,
                )
                for weight, value in zip(self.FIELD_WEIGHTS, self.FIELD_SCORES, strict=True)
            ]
            rank = func.ts_rank(
                document, tsquery(f"rank_{index}_{j}", self._alternative(sequence, query.prefix)), type_=Float
            )
            alternatives.append(func.greatest(*fields, type_=Float) + 0.01 * rank)
        return alternatives[0] if len(alternatives) == 1 else func.greatest(*alternatives, type_=Float)

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
        return PostgresEngine()
    raise RuntimeError(f"no search engine for the {dialect} database")
