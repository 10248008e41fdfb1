"""One search interface, two engines: SQLite FTS5 and PostgreSQL tsvector + GIN.

Both index the terms that `analysis.terms` produces, with four weighted fields (titles rank
above issuing bodies, body text and comments). Query syntax is generated here from
`TermQuery` values; every term is quoted, so user input cannot change a query's meaning.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Float, Integer, Subquery, bindparam, text
from sqlalchemy.orm import Session

from data.search.analysis import TermQuery, terms

_counter = itertools.count()


@dataclass(frozen=True)
class IndexedFields:
    title: str  # English and original-language titles
    bodies: str  # issuing bodies' abbreviations and full names
    text: str  # summary and goals
    comment: str

    def analysed(self) -> tuple[list[str], list[str], list[str], list[str]]:
        return terms(self.title), terms(self.bodies), terms(self.text), terms(self.comment)


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
        return (
            text(
                f"SELECT rowid AS brief_id, -bm25(brief_search, {weights}) AS score "
                f"FROM brief_search WHERE brief_search MATCH :{name}"
            )
            .bindparams(bindparam(name, value=self.expression(queries, any_of)))
            .columns(brief_id=Integer, score=Float)
            .subquery()
        )


def _quote_lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


# tsvector positions stop at 16383; a gap between fields keeps phrases inside one field.
_MAX_POSITION = 16383
_FIELD_GAP = 3


class PostgresEngine(SearchEngine):
    FIELD_WEIGHTS = ("A", "B", "C", "D")  # ts_rank's default weights 1.0, 0.4, 0.2, 0.1

    @staticmethod
    def vector_literal(fields: IndexedFields) -> str:
        positions: dict[tuple[str, str], list[int]] = {}
        position = 1
        for weight, field_terms in zip(PostgresEngine.FIELD_WEIGHTS, fields.analysed(), strict=True):
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
                lexemes = [_quote_lexeme(t) + (":*" if query.prefix else "") for t in sequence]
                alternatives.append("(" + " <-> ".join(lexemes) + ")")
            parts.append("(" + " | ".join(alternatives) + ")")
        return (" | " if any_of else " & ").join(parts)

    def matches(self, queries: Sequence[TermQuery], *, any_of: bool = False) -> Subquery:
        name = f"tsq{next(_counter)}"
        return (
            text(
                f"SELECT brief_id, ts_rank(document, CAST(:{name} AS tsquery)) AS score "
                f"FROM brief_search WHERE document @@ CAST(:{name} AS tsquery)"
            )
            .bindparams(bindparam(name, value=self.expression(queries, any_of)))
            .columns(brief_id=Integer, score=Float)
            .subquery()
        )


def engine_for(session: Session) -> SearchEngine:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return Fts5Engine()
    if dialect == "postgresql":
        return PostgresEngine()
    raise RuntimeError(f"no search engine for the {dialect} database")
