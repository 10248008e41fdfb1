"""Query -> search plan: the one place a query's text becomes what the store searches.

Words become analysed term queries, each with its close derivations and its thesaurus
names (data/thesaurus.toml and the aliases the briefs define, data/search/aliases.py; a
name of several words is found in the free text, longest first); issuing-body names in the text search for all of a body's names; `body:` filters
resolve to body ids. The result is a `BriefFilter` (data/briefs.py), which handlers and the
scheduler hand to the store unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine, Row, func, select
from sqlalchemy.orm import Session

from ..bodies import normalize_name, resolve_body, used_bodies
from ..briefs import BriefFilter, suggest
from ..db import READ_ONLY
from ..errors import UserError
from ..models import BodyAlias, GoalKind, IssuingBody
from ..search.aliases import marked_search_thesaurus
from ..search.analysis import (
    STOPWORDS,
    TermQuery,
    any_phrase_query,
    phrase_query,
    prefix_query,
    terms,
    word_query,
)
from ..search.thesaurus import Thesaurus, thesaurus
from .language import Query

_ALIAS_SPAN = 8  # longest body name, in words, looked for in free text


@dataclass
class TextQueries:
    """The analysed text of a query: what to include and exclude, and what was left out."""

    include: list[TermQuery] = field(default_factory=list)
    any_of: list[list[TermQuery]] = field(default_factory=list)
    exclude: list[TermQuery] = field(default_factory=list)
    plain_words: list[str] = field(default_factory=list)  # searched as words (for suggestions)
    unsearchable: list[str] = field(default_factory=list)  # stopwords, emoji, punctuation


@dataclass(frozen=True)
class KnownBody:
    """An issuing body as queries read it: its id, abbreviation and every name it goes by
    (abbreviation, full name, aliases, as `body_names` lists them)."""

    id: int
    abbreviation: str
    names: tuple[str, ...]


_BODY_TABLE = (
    select(
        BodyAlias.normalized,
        BodyAlias.alias,
        IssuingBody.id,
        IssuingBody.abbreviation,
        IssuingBody.full_name,
        BodyAlias.id,
    )
    .join(IssuingBody, BodyAlias.body_id == IssuingBody.id)
    .order_by(BodyAlias.id)
)
# What the table holds, in one row of aggregates: rows, alias ids (count, highest, sum) and
# the lengths of every name column. `_table_mark` computes the same from the rows read, so a
# table kept under a mark is exactly the table that gave it.
_BODY_MARK = select(
    func.count(BodyAlias.id),
    func.coalesce(func.max(BodyAlias.id), 0),
    func.coalesce(func.sum(BodyAlias.id), 0),
    func.coalesce(func.sum(IssuingBody.id), 0),
    func.coalesce(func.sum(func.length(BodyAlias.normalized)), 0),
    func.coalesce(func.sum(func.length(BodyAlias.alias)), 0),
    func.coalesce(func.sum(func.length(IssuingBody.abbreviation)), 0),
    func.coalesce(func.sum(func.length(IssuingBody.full_name)), 0),
).join(IssuingBody, BodyAlias.body_id == IssuingBody.id)

_Mark = tuple[int, ...]
_BodyRow = Row[str, str, int, str, str, int]


def _table_mark(rows: Sequence[_BodyRow]) -> _Mark:
    alias_ids = [row[5] for row in rows]
    return (
        len(rows),
        max(alias_ids, default=0),
        sum(alias_ids),
        sum(row[2] for row in rows),
        sum(len(row[0]) for row in rows),
        sum(len(row[1]) for row in rows),
        sum(len(row[3]) for row in rows),
        sum(len(row[4] or "") for row in rows),
    )


def known_bodies_by_name(session: Session) -> dict[str, KnownBody]:
    """Every body under each of its normalized names, read in one query of plain columns
    (no ORM objects: a search reads this table on every request)."""
    return _known_bodies(session.execute(_BODY_TABLE).all())


def _known_bodies(rows: Sequence[_BodyRow]) -> dict[str, KnownBody]:
    aliases: dict[int, list[str]] = {}
    for _normalized, alias, body_id, _abbreviation, _full_name, _id in rows:
        aliases.setdefault(body_id, []).append(alias)
    bodies: dict[int, KnownBody] = {}
    for _normalized, _alias, body_id, abbreviation, full_name, _id in rows:
        if body_id not in bodies:
            names = [abbreviation, full_name, *aliases[body_id]]
            unique = tuple(dict.fromkeys(n for n in names if n))
            bodies[body_id] = KnownBody(body_id, abbreviation, unique)
    return {row[0]: bodies[row[2]] for row in rows}


@dataclass(frozen=True)
class _BodyTable:
    mark: _Mark
    by_name: dict[str, KnownBody]
    queries: dict[int, TermQuery | None]  # per body id, filled as searches name bodies


# Per database: the body table last read by a read-only session, and its mark. Every search
# reads the table; it changes only when a brief brings a new body or name, so a search asks
# for the mark (one row of aggregates) and rebuilds only when it moved. Only read-only
# sessions keep or use it: they cannot have written, so what they see is committed (a
# writer's uncommitted, maybe rolled-back, bodies never reach the cache).
_TABLES: dict[str, _BodyTable] = {}


def _body_table(session: Session) -> _BodyTable:
    bind = session.get_bind()
    kept = isinstance(bind, Engine) and bool(bind.get_execution_options().get(READ_ONLY))
    database = bind.url.render_as_string(hide_password=True) if isinstance(bind, Engine) else ""
    if kept:
        found = _TABLES.get(database)
        if found is not None and tuple(session.execute(_BODY_MARK).one()) == found.mark:
            return found
    rows = session.execute(_BODY_TABLE).all()
    table = _BodyTable(_table_mark(rows), _known_bodies(rows), {})
    if kept:
        _TABLES[database] = table
    return table


class BodyNames:
    """Issuing-body names in free text: "MIIT", "工信部" or "Ministry of Industry and
    Information Technology" all search for any of the body's names."""

    def __init__(self, session: Session) -> None:
        table = _body_table(session)
        self.by_name = table.by_name
        self._queries = table.queries
        self._synonyms: tuple[tuple[int, ...], Thesaurus] | None = None
        # Per word and per name looked up, with this table and its synonyms: the scheduler
        # compiles thousands of standing queries made of a few hundred distinct words, and a
        # word's analysis was two fifths of a fresh scheduler's compile time.
        self._terms: dict[str, TermQuery | None] = {}
        self._found: dict[str, KnownBody | None] = {}

    def synonyms(self, session: Session) -> Thesaurus:
        """The thesaurus with the learned aliases, read once with this table (the scheduler
        compiles many queries with one)."""
        return self._marked_synonyms(session)[1]

    def synonyms_mark(self, session: Session) -> tuple[int, ...]:
        """The learned aliases' table mark those synonyms were made from."""
        return self._marked_synonyms(session)[0]

    def _marked_synonyms(self, session: Session) -> tuple[tuple[int, ...], Thesaurus]:
        if self._synonyms is None:
            self._synonyms = marked_search_thesaurus(session)
        return self._synonyms

    def find(self, text: str) -> KnownBody | None:
        try:
            return self._found[text]
        except KeyError:
            found = self.by_name.get(normalize_name(text)) if text.strip() else None
            self._found[text] = found
            return found

    def term(self, session: Session, word: str) -> TermQuery | None:
        """`term_for` the word with this table's synonyms, analysed once per word."""
        try:
            return self._terms[word]
        except KeyError:
            found = self._terms[word] = term_for(word, self.synonyms(session))
            return found

    def query(self, body: KnownBody) -> TermQuery | None:
        if body.id not in self._queries:
            found = any_phrase_query(list(body.names))
            self._queries[body.id] = (
                TermQuery(found.alternatives, label=body.abbreviation) if found else None
            )
        return self._queries[body.id]


def with_synonyms(query: TermQuery, names: Thesaurus) -> TermQuery:
    """The query plus the thesaurus names of each of its alternatives, weighted lower."""
    if query.prefix:
        return query
    weights = list(query.weights or (1.0,) * len(query.alternatives))
    alternatives = list(query.alternatives)
    for sequence in query.alternatives:
        for other, weight in names.expansions(sequence):
            if other not in alternatives:
                alternatives.append(other)
                weights.append(weight)
    if len(alternatives) == len(query.alternatives):
        return query
    return TermQuery(tuple(alternatives), weights=tuple(weights), label=query.label)


def term_for(word: str, names: Thesaurus | None = None) -> TermQuery | None:
    """One query word (or `word*`, or a hyphenated word), with its synonyms."""
    names = names or thesaurus()
    if word.endswith("*") and word.rstrip("*"):
        return prefix_query(word)
    found = word_query(word)
    if found is None:
        return None
    found = TermQuery(found.alternatives, found.prefix, found.weights, label=word)
    return with_synonyms(found, names)


def _phrase_term(phrase: str, names: Thesaurus) -> TermQuery | None:
    found = phrase_query(phrase)
    if found is None:
        return None
    return with_synonyms(TermQuery(found.alternatives, label=f'"{phrase}"'), names)


def _thesaurus_span(words: list[str], start: int, names: Thesaurus) -> int:
    """How many words from `start` make one thesaurus name (0: none of two or more)."""
    for span in range(min(names.longest + 2, len(words) - start), 1, -1):
        sequence = tuple(terms(" ".join(words[start : start + span])))
        if sequence and names.expansions(sequence):
            return span
    return 0


def text_queries(session: Session, query: Query, names: BodyNames | None = None) -> TextQueries:
    out = TextQueries()
    names = names or BodyNames(session)
    synonyms = names.synonyms(session)  # data/thesaurus.toml and the learned aliases
    words = list(query.words)
    i = 0
    while i < len(words):
        for span in range(min(_ALIAS_SPAN, len(words) - i), 0, -1):
            body = names.find(" ".join(words[i : i + span]))
            if body is not None and (span > 1 or not words[i].isdigit()):
                found = names.query(body)
                if found:
                    out.include.append(found)
                i += span
                break
        else:
            span = _thesaurus_span(words, i, synonyms)
            if span:
                phrase = " ".join(words[i : i + span])
                term = _phrase_term(phrase, synonyms)
                if term is not None:
                    out.include.append(
                        TermQuery(term.alternatives, weights=term.weights, label=phrase)
                    )
                    out.plain_words.extend(words[i : i + span])
                i += span
                continue
            term = names.term(session, words[i])
            if term is not None:
                out.include.append(term)
                out.plain_words.append(words[i])
            else:
                out.unsearchable.append(words[i])
            i += 1

    def body_or_phrase(text: str) -> TermQuery | None:
        body = names.find(text)
        return names.query(body) if body else _phrase_term(text, synonyms)

    for phrase in query.phrases:
        found = body_or_phrase(phrase)
        if found:
            out.include.append(found)
        else:
            out.unsearchable.append(f'"{phrase}"')
    for group in query.any_of:
        members: list[TermQuery] = []
        for member in group:
            quoted = member[1:-1] if member.startswith('"') and member.endswith('"') else None
            text = quoted if quoted is not None else member
            body = names.find(text) if not text.isdigit() else None
            if body is not None:
                found = names.query(body)
            elif quoted is not None:
                found = _phrase_term(quoted, synonyms)
            else:
                found = names.term(session, member)
                if found is not None:
                    out.plain_words.append(member)
            if found is not None:
                members.append(found)
            else:
                out.unsearchable.append(member)
        if members:
            out.any_of.append(members)
    for word in query.excluded:
        body = names.find(word) if not word.isdigit() else None
        # An exclusion drops what the same word would find: -锂电池 also drops a brief that
        # says only "lithium batteries", as 锂电池 alone finds it.
        found = names.query(body) if body else names.term(session, word)
        if found:
            out.exclude.append(found)
        else:
            out.unsearchable.append(f"-{word}")
    for phrase in query.excluded_phrases:
        found = body_or_phrase(phrase)
        if found:
            out.exclude.append(found)
        else:
            out.unsearchable.append(f'-"{phrase}"')
    return out


def resolve_bodies(
    session: Session, names: Sequence[str], table: BodyNames | None = None
) -> frozenset[int]:
    ids: set[int] = set()
    for name in names:
        # A table read once (the scheduler compiling thousands of queries) saves a query each.
        body = table.find(name) if table is not None else resolve_body(session, name)
        if body is None:
            suggestions = suggest(session, [name]).bodies
            known = suggestions or used_bodies(session)[:12]
            raise UserError(
                f"I don't know an issuing body called `{name[:80]}`. "
                + ("Did you mean " if suggestions else "Bodies with briefs: ")
                + ", ".join(f"`body:{b}`" for b in known)
                + ("?" if suggestions else ".")
            )
        ids.add(body.id)
    return frozenset(ids)


def build_filter(
    session: Session, query: Query, names: BodyNames | None = None, *, today: date | None = None
) -> tuple[BriefFilter, TextQueries]:
    """The store filter for a query. Raises UserError when nothing in it can be searched
    (only stopwords, emoji or punctuation, and no filter). `names`: a body-name table to
    reuse when building many filters at once (the scheduler). `today` starts a `due:..YEAR`
    bound (without it, deadlines already passed count too)."""
    text = text_queries(session, query, names)
    where = BriefFilter(
        include=tuple(dict.fromkeys(text.include)),  # "storage storage" searches once
        any_of=tuple(tuple(dict.fromkeys(g)) for g in text.any_of),
        exclude=tuple(dict.fromkeys(text.exclude)),
        body_ids=tuple(frozenset({i}) for i in resolve_bodies(session, query.bodies, names)),
        exclude_body_ids=resolve_bodies(session, query.excluded_bodies, names),
        since=query.since,
        until=query.until,
        due_year=query.due_year,
        due_from=today if query.due_by is not None else None,
        due_by=date(query.due_by, 12, 31) if query.due_by is not None else None,
        kind=query.kind,
        goal_kinds=(GoalKind.COMPANY,) if query.company else (GoalKind.POLICY,),
    )
    if text.unsearchable and not (
        where.include or where.any_of or where.exclude or query.has_filters
    ):
        raise UserError(unsearchable_message(text.unsearchable))
    return where, text


def unsearchable_message(unsearchable: list[str]) -> str:
    shown = ", ".join(f"`{w[:40]}`" for w in unsearchable[:5])
    if all(w.lower().strip('-"') in STOPWORDS for w in unsearchable):
        return (
            f"{shown} {'is' if len(unsearchable) == 1 else 'are'} too common to search for; "
            "try a more specific word such as `storage`."
        )
    return (
        f"There is nothing I can search for in {shown}: I look for words (English or Chinese), "
        "for example `/policy storage` or `/policy 储能`."
    )
