"""One search interface, two engines: SQLite FTS5 and PostgreSQL tsvector + GIN.

Both index the terms that `analysis.index_terms` produces, with four weighted fields
(titles rank above issuing bodies, body text and comments). Query syntax is generated here from
`TermQuery` values; every term is quoted, so user input cannot change a query's meaning.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Float, Integer, Subquery, bindparam, text
from sqlalchemy.orm import Session

from data.search.analysis import TermQuery, index_terms

_counter = itertools.count()


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
    @abstractmethod
    def index(self, session: Session, items: Sequence[tuple[int, IndexedFields]]) -> None:
        """Add or replace the index entries of these briefs."""

    @abstractmethod
    def remove(self, session: Session, brief_ids: Sequence[int]) -> None: ...

    @abstractmethod
    def matches(self, queries: Sequence[TermQuery], *, any_of: bool = False) -> Subquery:
        """A subquery of (brief_id, score) for briefs matching all (or any) of the queries;
        a higher score is a better match."""


def _quote_fts5(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class Fts5Engine(SearchEngine):
    # bm25 weights per column: title, bodies, text, comment.
    WEIGHTS = (10.0, 5.0, 2.0, 1.0)

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

    def matches(self, queries: Sequence[TermQuery], *, any_of: bool = False) -> Subquery:
        name = f"fts_q{next(_counter)}"
        weights = ", ".join(str(w) for w in self.WEIGHTS)
        params = {name: self.expression(queries, any_of)}
        score = f"-bm25(brief_search, {weights})"
        if not any_of:
            # bm25 adds up every alternative a brief holds (a body's abbreviation, full
            # name and Chinese names in its text) and can outweigh one word in a long
            # title. A point per query found in the title, above a bm25 squashed into
            # [0, 1), keeps titles first; bm25 orders briefs within that.
            bonus = []
            for index, query in enumerate(queries):
                key = f"{name}_{index}"
                params[key] = "title : " + self.expression([query], False)
                bonus.append(
                    f"(rowid IN (SELECT rowid FROM brief_search WHERE brief_search MATCH :{key}))"
                )
            score = " + ".join([*bonus, f"{score} / (1.0 + {score})"])
        return (
            text(
                f"SELECT rowid AS brief_id, {score} AS score "
                f"FROM brief_search WHERE brief_search MATCH :{name}"
            )
            .bindparams(*(bindparam(key, value=value) for key, value in params.items()))
            .columns(brief_id=Integer, score=Float)
            .subquery()
        )


def _quote_lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


# tsvector positions stop at 16383; a gap between fields keeps phrases inside one field.
_MAX_POSITION = 16383
_FIELD_GAP = 3


class PostgresEngine(SearchEngine):
    FIELD_WEIGHTS = ("A", "B", "C", "D")  # title, bodies, text, comment
    FIELD_SCORES = (1.0, 0.4, 0.2, 0.1)  # as ts_rank's default weights

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

    def matches(self, queries: Sequence[TermQuery], *, any_of: bool = False) -> Subquery:
        name = f"tsq{next(_counter)}"
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


def engine_for(session: Session) -> SearchEngine:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return Fts5Engine()
    if dialect == "postgresql":
        return PostgresEngine()
    raise RuntimeError(f"no search engine for the {dialect} database")
